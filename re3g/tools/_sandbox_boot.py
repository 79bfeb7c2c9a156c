"""Bootstrap run inside the sandbox child: confine this process, then run the user's code.

Run as ``python -I -B _sandbox_boot.py CONFIG.json`` by :mod:`re3g.tools.sandbox`; standard
library only. Order: join the pids cgroup, set resource limits, leave the network (a new
network namespace), drop to ``nobody`` when that user can still read Python, install an audit
hook that refuses files outside the work folder, sockets and process creation, run the code.
"""

import json
import os
import resource
import sys

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
DENIED_EVENTS = {
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
}
PATH_EVENTS = {  # event -> index of the path argument(s) that must stay in the work folder
    "os.remove": (0,), "os.rename": (0, 1), "os.rmdir": (0,), "os.mkdir": (0,),
    "os.symlink": (0, 1), "os.link": (0, 1), "os.chmod": (0,), "os.chown": (0,),
    "os.truncate": (0,), "os.utime": (0,), "shutil.rmtree": (0,), "os.chdir": (0,),
}
LIST_EVENTS = {"os.listdir", "os.scandir", "glob.glob"}


def _limits(cfg: dict) -> list[str]:
    mb = 1024 * 1024
    cpu = int(cfg["cpu_seconds"])
    todo = [(resource.RLIMIT_CPU, (cpu, cpu + 1)), (resource.RLIMIT_CORE, (0, 0)),
            (resource.RLIMIT_AS, (cfg["memory_mb"] * mb,) * 2),
            (resource.RLIMIT_FSIZE, (cfg["file_mb"] * mb,) * 2),
            (resource.RLIMIT_NPROC, (cfg["max_processes"],) * 2),
            (resource.RLIMIT_NOFILE, (64, 64))]
    for what, value in todo:
        resource.setrlimit(what, value)
    return ["rlimits"]


def _join_cgroup(path: str | None) -> list[str]:
    if not path:
        return []
    try:
        with open(os.path.join(path, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))
        return ["pids-cgroup"]
    except OSError:
        return []


def _leave_network() -> list[str]:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        flags = CLONE_NEWNET if os.geteuid() == 0 else CLONE_NEWUSER | CLONE_NEWNET
        if libc.unshare(flags) == 0:
            return ["netns"]
    except OSError:
        pass
    return []


def _world_readable(paths: list[str]) -> bool:
    for p in paths:
        p = os.path.realpath(p)
        while True:
            st = os.stat(p)
            if not st.st_mode & 0o005:
                return False
            if p == "/":
                break
            p = os.path.dirname(p)
    return True


def _drop_privileges(workdir: str, roots: list[str]) -> list[str]:
    if os.geteuid() != 0 or not _world_readable(roots):
        return []  # nobody could not read Python's own files here: stay, the hook still guards
    os.chown(workdir, 65534, 65534)
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)
    return ["uid-nobody"]


def _inside(path: str, roots: list[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def _install_hook(workdir: str, read_roots: list[str]) -> None:
    realpath = os.path.realpath
    write_roots = [workdir, "/dev/null"]
    readable = [workdir, *read_roots, "/dev/null", "/dev/urandom", "/dev/random"]
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
            if writing and not _inside(full, write_roots):
                deny(f"writing {full!r} is not allowed (outside the sandbox folder)")
            if not _inside(full, readable):
                deny(f"reading {full!r} is not allowed (outside the sandbox folder)")
        elif event in PATH_EVENTS:
            for i in PATH_EVENTS[event]:
                if i < len(args) and isinstance(args[i], (str, bytes)):
                    full = realpath(os.fsdecode(args[i]))
                    if not _inside(full, write_roots):
                        deny(f"{event} on {full!r} is not allowed (outside the sandbox folder)")
        elif event in LIST_EVENTS and args and isinstance(args[0], (str, bytes)):
            full = realpath(os.fsdecode(args[0]) or ".")
            if not _inside(full, readable):
                deny(f"listing {full!r} is not allowed (outside the sandbox folder)")

    sys.addaudithook(hook)


def main() -> None:
    with open(sys.argv[1]) as f:
        cfg = json.load(f)
    workdir = os.path.realpath(cfg["workdir"])
    with open(os.path.join(workdir, cfg["script"])) as f:
        source = f.read()
    roots = sorted({os.path.realpath(p) for p in cfg["python_roots"]})
    isolation = _join_cgroup(cfg.get("cgroup")) + _limits(cfg)
    if cfg["network"] is False:
        isolation += _leave_network()
    isolation += _drop_privileges(workdir, roots)
    os.chdir(workdir)
    sys.path[:] = [workdir] + [p for p in sys.path if _inside(os.path.realpath(p or "."), roots)]
    if cfg["audit_hook"]:
        _install_hook(workdir, roots)
        isolation.append("audit-hook")
    sys.stderr.write("\x00SANDBOX " + ",".join(isolation) + "\n")
    sys.stderr.flush()
    code = compile(source, cfg["script"], "exec")
    del source, cfg, f
    exec(code, {"__name__": "__main__", "__file__": os.path.join(workdir, "main.py")})


if __name__ == "__main__":
    main()
