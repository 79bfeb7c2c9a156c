"""Run untrusted Python in a bubblewrap sandbox and say what happened.

The operating system isolates the code; a Python audit hook inside is only a second layer.

- **bubblewrap** (``bwrap``, Debian package ``bubblewrap``) starts the interpreter in new user,
  mount, pid, network, IPC, UTS and cgroup namespaces (``--unshare-all``, no further user
  namespaces: ``--disable-userns``), as uid/gid 65534 inside, in a new session, with a cleared
  environment, and dies with its caller. The file system is a fresh root holding only the
  interpreter, its standard library (its site-packages hidden: no venv, no project), the
  system's shared libraries, a new ``/proc`` and a minimal ``/dev``, all read-only; the working
  folder ``/tmp`` is a private size-limited tmpfs that disappears with the run. No ``/etc``,
  no ``/bin``, no shell, no home folder, no network (an own loopback only).
- **host uid**: started as root, the sandbox runs as the host's uid 65534 (``nobody``), not as
  root mapped into a namespace. Python files that ``nobody`` cannot reach (an interpreter under
  ``/root``) are first bind-mounted, in a mount namespace of the launcher only, onto places it
  can reach.
- **seccomp** (:mod:`re3g.tools.seccomp`, compiled by libseccomp): namespace, mount, ptrace,
  BPF, io_uring, keyring, module and clock calls fail with EPERM.
- **rlimits**, set on bubblewrap and inherited by everything inside: CPU seconds, address space,
  file size, open files, no core files, and ``RLIMIT_NPROC`` on the host uid (fork bombs); plus a
  pids cgroup where one can be made. A wall clock kills bubblewrap's process group; the pid
  namespace ends with it, so nothing started inside (``setsid()`` or not) outlives the run.

Without bubblewrap, or where it cannot make namespaces, nothing runs: :class:`SandboxUnavailable`
says what to install. There is no weaker fallback.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import sysconfig
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import IO

from re3g.errors import Re3GError
from re3g.tools import seccomp

BOOT = Path(__file__).with_name("_sandbox_boot.py")
OUTPUT_CAP = 20_000  # characters of stdout/stderr kept in the result
PIDS_CGROUP_ROOTS = ("/sys/fs/cgroup/pids", "/sys/fs/cgroup")
MEMORY_CGROUP_ROOTS = ("/sys/fs/cgroup/memory", "/sys/fs/cgroup")
CPU_CGROUP_ROOTS = ("/sys/fs/cgroup/cpu", "/sys/fs/cgroup")
CPU_PERIOD_US = 100_000
SANDBOX_UID = SANDBOX_GID = 65534  # nobody / nogroup, inside and (when started as root) outside
WORKDIR = "/tmp"  # the private tmpfs the code runs in
BOOT_PATH = "/run/re3g/boot.py"  # where the boot script appears inside
BWRAP_TASKS = 2  # bubblewrap's own processes (launcher and pid 1) counted by RLIMIT_NPROC
NAMESPACES = ("user", "mnt", "pid", "net", "ipc", "uts", "cgroup")
INSTALL_HINT = ("install it with `apt-get install bubblewrap` (as root; `make sandbox` does it)")
CLONE_NEWNS = 0x00020000
MS_BIND, MS_REC, MS_PRIVATE = 0x1000, 0x4000, 0x40000
NO_NETWORK_ERRORS = ("Network is unreachable", "Connection refused",
                     "Temporary failure in name resolution")


class SandboxUnavailable(Re3GError):
    """The sandbox cannot be set up here (no bubblewrap, no namespaces, no libseccomp).

    Code is then not run at all: there is no weaker fallback.
    """


@dataclass(frozen=True)
class SandboxLimits:
    """Limits for one sandboxed run.

    >>> SandboxLimits(cpu_seconds=2, memory_mb=256).wall_seconds
    10.0
    """

    cpu_seconds: int = 5
    wall_seconds: float = 10.0
    memory_mb: int = 512  # address space of each process
    file_mb: int = 8  # largest file written (stdout/stderr included); the tmpfs holds 4x this
    max_processes: int = 16  # tasks (processes and threads) the code may have at once
    network: bool = False  # True shares the host's network namespace
    audit_hook: bool = True  # the in-process second layer

    def __post_init__(self) -> None:
        for name in ("cpu_seconds", "wall_seconds", "memory_mb", "file_mb", "max_processes"):
            if getattr(self, name) <= 0:
                raise Re3GError(f"sandbox limit {name} must be positive")
        if self.memory_mb < 64:
            raise Re3GError("sandbox memory_mb must be at least 64 (Python itself needs it)")


@dataclass
class SandboxResult:
    """What a sandboxed run did. ``ok`` is True only for exit status 0 within the limits;
    ``isolation`` lists what confined it, as observed from inside where possible.

    >>> r = run_python("print(1 + 1)")
    >>> r.ok, r.stdout
    (True, '2\\n')
    """

    ok: bool
    returncode: int | None  # exit status; -N: killed by signal N; None: the wall clock stopped it
    stdout: str
    stderr: str
    reason: str
    seconds: float
    isolation: list[str] = field(default_factory=list)


# -- what the sandbox contains -------------------------------------------------------------------


def find_bwrap() -> str:
    """The ``bwrap`` executable on PATH; :class:`SandboxUnavailable` when there is none."""
    path = shutil.which("bwrap")
    if path is None:
        raise SandboxUnavailable("the code sandbox needs bubblewrap (bwrap), which is not "
                                 f"installed; {INSTALL_HINT}. Nothing was run.")
    return path


@lru_cache(maxsize=1)
def python_files() -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """(interpreter, paths to bind read-only, site-packages folders to hide) of the base
    interpreter behind this one (a venv's own site-packages are never bound)."""
    exe = os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable)
    base = {"base": sys.base_prefix, "platbase": sys.base_exec_prefix}
    paths = sysconfig.get_paths(vars=base)
    binds = [exe] + sorted({os.path.realpath(paths[k]) for k in ("stdlib", "platstdlib")})
    if sysconfig.get_config_var("Py_ENABLE_SHARED"):
        lib = os.path.join(sysconfig.get_config_var("LIBDIR") or "",
                           sysconfig.get_config_var("INSTSONAME") or "")
        if os.path.isfile(lib):
            binds.append(os.path.realpath(lib))
    hide = sorted({os.path.realpath(paths[k]) for k in ("purelib", "platlib")
                   if any(os.path.realpath(paths[k]).startswith(b + "/") for b in binds[1:])})
    return exe, tuple(binds), tuple(p for p in hide if os.path.isdir(p))


def python_roots() -> list[str]:
    """Folders of Python's standard library (what the audit hook lets the code read)."""
    return [p for p in python_files()[1] if os.path.isdir(p)]


def _library_args() -> list[str]:
    """bwrap arguments for the system's shared libraries and the dynamic loader."""
    multiarch = sysconfig.get_config_var("MULTIARCH") or ""
    usr_lib = f"/usr/lib/{multiarch}" if multiarch and os.path.isdir(f"/usr/lib/{multiarch}") \
        else "/usr/lib"
    args = ["--ro-bind", usr_lib, usr_lib]
    if os.path.isdir("/usr/lib64"):
        args += ["--ro-bind", "/usr/lib64", "/usr/lib64"]
    for top in ("/lib", "/lib64"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    return args


def _reachable_by_others(path: str) -> bool:
    """Whether a user with no relation to the owner can reach ``path`` (search every folder
    above it, read it)."""
    p = os.path.realpath(path)
    if not os.stat(p).st_mode & stat.S_IROTH:
        return False
    while p != "/":
        p = os.path.dirname(p)
        if not os.stat(p).st_mode & stat.S_IXOTH:
            return False
    return True


# -- the launcher: what happens between fork and exec of bwrap -----------------------------------


@dataclass
class _Launcher:
    """``preexec_fn`` of the bwrap process: join the pids and memory cgroups, stage unreachable
    Python files (mount namespace of this process only), set the rlimits, drop to the sandbox
    uid."""

    cgroups: list[str]
    rlimits: list[tuple[int, tuple[int, int]]]
    stage: list[tuple[str, str]]  # (host path nobody can reach, placeholder to bind it onto)
    drop_to_nobody: bool

    def __call__(self) -> None:
        for cgroup in self.cgroups:
            fd = os.open(os.path.join(cgroup, "cgroup.procs"), os.O_WRONLY)
            os.write(fd, str(os.getpid()).encode())
            os.close(fd)
        if self.stage:
            _stage_mounts(self.stage)
        for what, value in self.rlimits:
            resource.setrlimit(what, value)
        if self.drop_to_nobody:
            os.setgroups([])
            os.setgid(SANDBOX_GID)
            os.setuid(SANDBOX_UID)


_libc = ctypes.CDLL(None, use_errno=True)


def _stage_mounts(stage: list[tuple[str, str]]) -> None:
    """In a new, private mount namespace, bind each host path onto its placeholder."""
    def ok(rc: int, what: str) -> None:
        if rc != 0:
            raise OSError(ctypes.get_errno(), what)

    ok(_libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    ok(_libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "mount --make-rprivate /")
    for source, target in stage:
        ok(_libc.mount(source.encode(), target.encode(), None, MS_BIND, None),
           f"bind mount {source} onto {target}")


def _tasks_of(uid: int) -> int:
    """Tasks (threads included) that ``uid`` has now: what RLIMIT_NPROC already counts."""
    n = 0
    for name in os.listdir("/proc"):
        if name.isdigit():
            with contextlib.suppress(OSError):
                if os.stat(f"/proc/{name}").st_uid == uid:
                    n += len(os.listdir(f"/proc/{name}/task"))
    return n


def _rlimits(lim: SandboxLimits, host_uid: int) -> list[tuple[int, tuple[int, int]]]:
    mb = 1024 * 1024
    nproc = _tasks_of(host_uid) + lim.max_processes + BWRAP_TASKS
    return [(resource.RLIMIT_CPU, (lim.cpu_seconds, lim.cpu_seconds + 1)),
            (resource.RLIMIT_CORE, (0, 0)),
            (resource.RLIMIT_AS, (lim.memory_mb * mb,) * 2),
            (resource.RLIMIT_FSIZE, (lim.file_mb * mb,) * 2),
            (resource.RLIMIT_NPROC, (nproc, nproc)),
            (resource.RLIMIT_NOFILE, (64, 64))]


def _pids_cgroup(max_pids: int) -> contextlib.AbstractContextManager[str | None]:
    """A fresh pids cgroup (v1 or v2) limited to ``max_pids`` tasks, when we may make one."""
    return _limit_cgroup(PIDS_CGROUP_ROOTS, {"pids.max": str(max_pids)})


def _cpu_cgroup(cpus: float = 1.0) -> contextlib.AbstractContextManager[str | None]:
    """A fresh cpu cgroup holding the whole process tree to ``cpus`` CPUs at once (CFS quota),
    so that with the wall clock the tree's total CPU time is bounded too, however many
    processes share it."""
    quota = str(int(cpus * CPU_PERIOD_US))
    return _limit_cgroup(CPU_CGROUP_ROOTS, {"cpu.cfs_quota_us": quota,
                                             "cpu.max": f"{quota} {CPU_PERIOD_US}"})


def tree_memory_bytes(lim: SandboxLimits) -> int:
    """Memory the whole process tree may hold: one process's ``memory_mb`` plus the tmpfs
    working folder (4 x ``file_mb``).

    >>> tree_memory_bytes(SandboxLimits(memory_mb=256, file_mb=8)) // 2**20
    288
    """
    return (lim.memory_mb + 4 * lim.file_mb) * 2**20


def _memory_cgroup(max_bytes: int) -> contextlib.AbstractContextManager[str | None]:
    """A fresh memory cgroup (v1 ``memory.limit_in_bytes`` or v2 ``memory.max``) holding the
    whole process tree (the tmpfs working folder included) to ``max_bytes``, when we may make
    one; the per-process address-space limit still applies inside."""
    return _limit_cgroup(MEMORY_CGROUP_ROOTS, {"memory.limit_in_bytes": str(max_bytes),
                                                "memory.max": str(max_bytes)})


@contextlib.contextmanager
def _limit_cgroup(roots: Sequence[str], limits: dict[str, str]) -> Iterator[str | None]:
    """A fresh cgroup under the first of ``roots`` that has the limit files (the first of
    ``limits`` that exists there is written), killed and removed afterwards; None when none
    can be made (no permission, controller missing)."""
    made = None
    for root in roots:
        if not os.path.isfile(os.path.join(root, "cgroup.procs")):
            continue
        path = os.path.join(root, f"re3g-sandbox-{uuid.uuid4().hex[:12]}")
        try:
            os.mkdir(path)
            name = next((n for n in limits if os.path.isfile(os.path.join(path, n))), None)
            if name is None:
                raise OSError(f"no limit file of {sorted(limits)} in {path}")
            with open(os.path.join(path, name), "w") as f:
                f.write(limits[name])
            made = path
            break
        except OSError:
            with contextlib.suppress(OSError):
                os.rmdir(path)
    try:
        yield made
    finally:
        if made:
            _kill_cgroup(made)


def _kill_cgroup(path: str) -> None:
    for _ in range(50):
        try:
            with open(os.path.join(path, "cgroup.procs")) as f:
                pids = [int(x) for x in f.read().split()]
        except OSError:
            return
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.rmdir(path)
            return
        time.sleep(0.02)


# -- one run -------------------------------------------------------------------------------------


class _Run:
    """The per-run files: a host folder (stdout, stderr, staging placeholders) and the
    unlinked temporary files whose descriptors bwrap reads (code, boot script, seccomp)."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.fds: list[int] = []  # passed to bwrap
        self._keep: list[IO[bytes]] = []

    def data_fd(self, data: bytes) -> int:
        """A descriptor bwrap can read ``data`` from (an unlinked file, at offset 0)."""
        f = tempfile.TemporaryFile(dir=self.folder)  # noqa: SIM115 (closed by close())
        f.write(data)
        f.flush()
        f.seek(0)
        self._keep.append(f)
        self.fds.append(f.fileno())
        return f.fileno()

    def stage(self, paths: tuple[str, ...]) -> tuple[dict[str, str], list[tuple[str, str]]]:
        """Placeholders for ``paths`` that nobody can reach: (host path -> placeholder, what
        the launcher binds where)."""
        os.chmod(self.folder, 0o711)
        where: dict[str, str] = {}
        todo: list[tuple[str, str]] = []
        for i, path in enumerate(p for p in paths if not _reachable_by_others(p)):
            target = os.path.join(self.folder, f"stage-{i}")
            if os.path.isdir(path):
                os.mkdir(target, 0o755)
            else:
                Path(target).touch(0o644)
            where[path] = target
            todo.append((path, target))
        return where, todo

    def close(self) -> None:
        for f in self._keep:
            f.close()


def _host_namespaces() -> dict[str, int]:
    return {n: os.stat(f"/proc/self/ns/{n}").st_ino for n in NAMESPACES}


def _bwrap_args(run: _Run, lim: SandboxLimits, code: str, files: dict[str, str],
                where: dict[str, str]) -> list[str]:
    """The bwrap command line (without the executable) that runs the boot script on ``code``."""
    exe, binds, hide = python_files()
    args = ["--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent",
            "--new-session", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_GID),
            "--hostname", "sandbox", "--clearenv"]
    if lim.network:
        args.append("--share-net")
    for key, value in (("PATH", "/usr/bin:/bin"), ("HOME", WORKDIR), ("TMPDIR", WORKDIR),
                       ("LANG", "C.UTF-8")):
        args += ["--setenv", key, value]
    args += _library_args()
    for path in binds:
        args += ["--ro-bind", where.get(path, path), path]
    for path in hide:  # an empty read-only folder over the base interpreter's site-packages
        args += ["--tmpfs", path, "--remount-ro", path]
    args += ["--proc", "/proc", "--dev", "/dev",
             "--size", str(4 * lim.file_mb * 1024 * 1024), "--tmpfs", WORKDIR,
             "--ro-bind-data", str(run.data_fd(BOOT.read_bytes())), BOOT_PATH]
    for name, text in {**files, "main.py": code}.items():
        args += ["--file", str(run.data_fd(text.encode())), f"{WORKDIR}/{name}"]
    args += ["--chdir", WORKDIR, "--seccomp", str(run.data_fd(_seccomp_program()))]
    cfg = {"workdir": WORKDIR, "script": "main.py", "python_roots": python_roots(),
           "audit_hook": lim.audit_hook, "host_namespaces": _host_namespaces()}
    return args + [exe, "-I", "-B", BOOT_PATH, json.dumps(cfg)]


def _seccomp_program() -> bytes:
    try:
        return seccomp.compile_filter()
    except OSError as exc:
        raise SandboxUnavailable(f"the code sandbox needs libseccomp for its system-call "
                                 f"filter ({exc}); install it with `apt-get install "
                                 f"libseccomp2`. Nothing was run.") from exc


def _check_files(files: dict[str, str]) -> None:
    for name in files:
        if os.path.basename(name) != name or name.startswith(".") or name == "main.py":
            raise Re3GError(f"sandbox file names must be plain names other than main.py: "
                            f"{name!r}")


def run_python(code: str, limits: SandboxLimits | None = None,
               files: dict[str, str] | None = None) -> SandboxResult:
    """Run ``code`` (a Python script, ``main.py``) in the sandbox and return what happened.

    ``files`` are extra text files put beside it in the working folder first (e.g. a module
    the script imports). Raises :class:`SandboxUnavailable` (and runs nothing) when bubblewrap
    is missing or cannot make its namespaces here.

    >>> run_python("open('/etc/passwd').read()").reason
    "stopped by the sandbox: reading '/etc/passwd' is not allowed (outside the sandbox folder)"
    """
    if not isinstance(code, str):
        raise Re3GError("sandbox code must be a string")
    lim = limits or SandboxLimits()
    files = dict(files or {})
    _check_files(files)
    bwrap = find_bwrap()
    as_root = os.geteuid() == 0
    host_uid = SANDBOX_UID if as_root else os.geteuid()
    with tempfile.TemporaryDirectory(prefix="re3g-sandbox-") as tmp, \
            _pids_cgroup(lim.max_processes + BWRAP_TASKS) as cgroup, \
            _memory_cgroup(tree_memory_bytes(lim)) as memory, _cpu_cgroup() as cpu:
        run = _Run(tmp)
        try:
            where, stage = run.stage(python_files()[1]) if as_root else ({}, [])
            argv = [bwrap, *_bwrap_args(run, lim, code, files, where)]
            launcher = _Launcher([c for c in (cgroup, memory, cpu) if c],
                                 _rlimits(lim, host_uid), stage, as_root)
            outcome = _launch(argv, run, launcher, lim.wall_seconds)
        finally:
            run.close()
    isolation = (["bwrap", f"host-uid-{host_uid}"] + (["pids-cgroup"] if cgroup else [])
                 + (["memory-cgroup"] if memory else []) + (["cpu-cgroup"] if cpu else []))
    return _result(outcome, lim, isolation)


@dataclass
class _Outcome:
    returncode: int | None  # None: stopped by the wall clock
    stdout: str
    stderr: str
    seconds: float


def _launch(argv: list[str], run: _Run, launcher: _Launcher, wall: float) -> _Outcome:
    """Start bwrap in its own session, wait up to ``wall`` seconds, kill its group after."""
    out_path, err_path = os.path.join(run.folder, "stdout"), os.path.join(run.folder, "stderr")
    start = time.monotonic()
    timed_out = False
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        try:
            proc = subprocess.Popen(argv, env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                    pass_fds=tuple(run.fds), start_new_session=True,
                                    preexec_fn=launcher)
        except (OSError, subprocess.SubprocessError) as exc:
            raise SandboxUnavailable(
                f"could not start bubblewrap ({exc}); started as root, the launcher needs "
                f"CAP_SYS_ADMIN to mount files uid {SANDBOX_UID} cannot reach (an interpreter "
                f"under /root) and CAP_SETUID to become uid {SANDBOX_UID}. Nothing was run."
            ) from exc
        try:
            proc.wait(timeout=wall)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return _Outcome(None if timed_out else proc.returncode, _read_capped(out_path),
                    _read_capped(err_path), time.monotonic() - start)


def _result(o: _Outcome, lim: SandboxLimits, isolation: list[str]) -> SandboxResult:
    """Turn the raw outcome into a result; a sandbox that never started raises instead."""
    stderr = o.stderr
    # the boot's marker line opens what the sandbox wrote; a line before it can only come
    # from the host between fork and exec (e.g. gRPC's fork handler of a library loaded in
    # this process), never from the sandboxed code, which runs after the boot: dropped
    at = stderr.find("\x00SANDBOX ")
    if at >= 0 and (at == 0 or stderr[at - 1] == "\n"):
        head, _, stderr = stderr[at:].partition("\n")
        isolation += [x for x in head.removeprefix("\x00SANDBOX ").split(",") if x]
    elif o.returncode is not None:
        raise SandboxUnavailable(_start_failure(stderr))
    code = o.returncode
    if code is not None and 128 < code <= 128 + 64:  # bwrap's pid 1: 128 + the signal
        code = 128 - code
    return SandboxResult(ok=code == 0, returncode=code, stdout=o.stdout, stderr=stderr,
                         reason=_explain(code, stderr, lim), seconds=o.seconds,
                         isolation=isolation)


def _start_failure(stderr: str) -> str:
    line = next((ln for ln in stderr.splitlines() if ln.strip()), "no message")
    if line.startswith("bwrap:"):
        return (f"bubblewrap could not set up the sandbox ({line}). It needs unprivileged "
                f"user namespaces (sysctl user.max_user_namespaces > 0; on Debian also "
                f"kernel.unprivileged_userns_clone=1); {INSTALL_HINT}. Nothing was run.")
    return f"the sandboxed interpreter did not start ({line}). Nothing was run."


def _explain(code: int | None, stderr: str, lim: SandboxLimits) -> str:
    if code is None:
        return f"stopped: wall-clock limit of {lim.wall_seconds:g} s exceeded"
    if code == 0:
        return "ran: exit status 0"
    last = next((ln for ln in reversed(stderr.strip().splitlines()) if ln.strip()), "")
    if "sandbox: " in stderr:
        msg = stderr[stderr.rindex("sandbox: "):].splitlines()[0]
        return f"stopped by the sandbox: {msg.removeprefix('sandbox: ')}"
    if code in (-signal.SIGXCPU, -signal.SIGKILL) and "MemoryError" not in stderr:
        return f"stopped: CPU time limit of {lim.cpu_seconds} s exceeded"
    if code == -signal.SIGXFSZ or "File too large" in last:
        return f"stopped: file size limit of {lim.file_mb} MB exceeded"
    if "No space left on device" in last:
        return f"stopped: the working folder's limit of {4 * lim.file_mb} MB is full"
    if "MemoryError" in last or last.startswith("MemoryError"):
        return f"stopped: memory limit of {lim.memory_mb} MB exceeded (MemoryError)"
    if "BlockingIOError" in last and "Resource temporarily unavailable" in last:
        return f"stopped: process limit of {lim.max_processes} exceeded"
    if not lim.network and any(m in stderr for m in NO_NETWORK_ERRORS):
        return "failed: no network in the sandbox (" + last + ")"
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by signal {signal.Signals(-code).name}"
        return f"killed by signal {-code}"
    return f"failed: exit status {code}: {last}" if last else f"failed: exit status {code}"


def _read_capped(path: str) -> str:
    with open(path, "rb") as f:
        data = f.read(OUTPUT_CAP + 1)
    text = data[:OUTPUT_CAP].decode("utf-8", errors="replace")
    return text + ("\n[... output truncated]" if len(data) > OUTPUT_CAP else "")
