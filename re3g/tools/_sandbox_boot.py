"""Bootstrap inside the bubblewrap sandbox: say what confines this process, add the audit hook
(a second layer), run the user's code.

Run as ``python -I -B boot.py CONFIG_JSON`` by :mod:`re3g.tools.sandbox`; standard library
only. The operating system has already isolated this process (namespaces, uid, rlimits,
seccomp); the first line on stderr lists what is observed here, e.g.
``\\0SANDBOX userns,mntns,pidns,netns,...,seccomp,rlimits,audit-hook``. The hook refuses files
outside the work folder and the standard library, sockets and process creation. Sandboxed code
can weaken a Python-level hook, so its tables are read-only here, but nothing depends on it.
"""

import json
import os
import resource
import sys
from types import MappingProxyType

DENIED_EVENTS = MappingProxyType({
    "socket.__new__": "network access", "socket.connect": "network access",
    "socket.bind": "network access", "socket.getaddrinfo": "network access",
    "socket.sendto": "network access", "socket.sendmsg": "network access",
    "os.fork": "process creation", "os.forkpty": "process creation",
    "os.system": "process creation", "os.exec": "process creation",
    "os.posix_spawn": "process creation", "os.spawn": "process creation",
    "subprocess.Popen": "process creation", "pty.spawn": "process creation",
    "ctypes.dlopen": "loading native code", "ctypes.dlsym": "loading native code",
    "ctypes.cdata": "raw memory access", "os.kill": "signalling processes",
    "os.killpg": "signalling processes", "os.setuid": "changing user",
})
PATH_EVENTS = MappingProxyType({  # event -> index of the path argument(s) to keep in the folder
    "os.remove": (0,), "os.rename": (0, 1), "os.rmdir": (0,), "os.mkdir": (0,),
    "os.symlink": (0, 1), "os.link": (0, 1), "os.chmod": (0,), "os.chown": (0,),
    "os.truncate": (0,), "os.utime": (0,), "shutil.rmtree": (0,), "os.chdir": (0,),
})
LIST_EVENTS = frozenset({"os.listdir", "os.scandir", "glob.glob"})
NAMESPACES = ("user", "mnt", "pid", "net", "ipc", "uts", "cgroup")
LIMITED = (resource.RLIMIT_CPU, resource.RLIMIT_AS, resource.RLIMIT_FSIZE, resource.RLIMIT_NPROC)


def _status() -> dict:
    """Fields of /proc/self/status (capabilities, no_new_privs, seccomp mode)."""
    with open("/proc/self/status") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def _observed(host_namespaces: dict) -> list:
    """What confines this process, each item checked here rather than taken on trust."""
    found = [f"{n}ns" for n in NAMESPACES
             if os.stat(f"/proc/self/ns/{n}").st_ino != host_namespaces.get(n)]
    if os.getuid() == 65534 and os.getgid() == 65534:
        found.append("uid-nobody")
    status = _status()
    if int(status.get("CapEff", "1"), 16) == 0:
        found.append("no-caps")
    if status.get("NoNewPrivs") == "1":
        found.append("no-new-privs")
    if status.get("Seccomp") == "2":
        found.append("seccomp")
    if all(resource.getrlimit(r)[1] != resource.RLIM_INFINITY for r in LIMITED):
        found.append("rlimits")
    return found


def _inside(path: str, roots: tuple) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def _install_hook(workdir: str, read_roots: list) -> None:
    realpath, inside = os.path.realpath, _inside  # bound now: rebinding the globals is no use
    write_roots = (workdir, "/dev/null")
    readable = (workdir, *read_roots, "/dev/null", "/dev/urandom", "/dev/random")
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC

    def deny(msg: str) -> None:
        raise PermissionError(f"sandbox: {msg}")

    def hook(event: str, args: tuple) -> None:
        if event in DENIED_EVENTS:
            deny(f"{DENIED_EVENTS[event]} is not allowed ({event})")
        if event == "open":
            path, mode, flags = (list(args) + [None, None])[:3]
            if not isinstance(path, (str, bytes)):
                return  # an already-open file descriptor
            full = realpath(os.fsdecode(path))
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & write_flags)
            if writing and not inside(full, write_roots):
                deny(f"writing {full!r} is not allowed (outside the sandbox folder)")
            if not inside(full, readable):
                deny(f"reading {full!r} is not allowed (outside the sandbox folder)")
        elif event in PATH_EVENTS:
            for i in PATH_EVENTS[event]:
                if i < len(args) and isinstance(args[i], (str, bytes)):
                    full = realpath(os.fsdecode(args[i]))
                    if not inside(full, write_roots):
                        deny(f"{event} on {full!r} is not allowed (outside the sandbox folder)")
        elif event in LIST_EVENTS and args and isinstance(args[0], (str, bytes)):
            full = realpath(os.fsdecode(args[0]) or ".")
            if not inside(full, readable):
                deny(f"listing {full!r} is not allowed (outside the sandbox folder)")

    sys.addaudithook(hook)


def main() -> None:
    cfg = json.loads(sys.argv[1])
    workdir = cfg["workdir"]
    with open(os.path.join(workdir, cfg["script"])) as f:
        source = f.read()
    roots = tuple(os.path.realpath(p) for p in cfg["python_roots"])
    isolation = _observed(cfg["host_namespaces"])
    os.chdir(workdir)
    sys.path[:] = [workdir] + [p for p in sys.path if _inside(os.path.realpath(p or "."), roots)]
    if cfg["audit_hook"]:
        _install_hook(workdir, list(roots))
        isolation.append("audit-hook")
    sys.stderr.write("\x00SANDBOX " + ",".join(isolation) + "\n")
    sys.stderr.flush()
    code = compile(source, cfg["script"], "exec")
    del source, cfg, f
    exec(code, {"__name__": "__main__", "__file__": os.path.join(workdir, "main.py")})


if __name__ == "__main__":
    main()
