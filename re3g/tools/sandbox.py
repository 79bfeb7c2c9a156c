"""Run untrusted Python in a separate, confined process and say what happened.

Kernel-level limits always apply: CPU seconds, address space (memory), file size, open files,
a wall clock (the whole process group is killed), a pids cgroup or RLIMIT_NPROC against fork
bombs, a fresh network namespace (no network), and a new temporary working folder that is
deleted afterwards. On top, a Python audit hook (best effort) refuses reads and writes outside
that folder and Python's own library, sockets, process creation and ctypes. When the user
``nobody`` can read Python's files the child also drops to it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from re3g.errors import Re3GError

BOOT = Path(__file__).with_name("_sandbox_boot.py")
OUTPUT_CAP = 20_000  # characters of stdout/stderr kept in the result
PIDS_CGROUP_ROOTS = ("/sys/fs/cgroup/pids", "/sys/fs/cgroup")


@dataclass(frozen=True)
class SandboxLimits:
    """Limits for one sandboxed run.

    >>> SandboxLimits(cpu_seconds=2, memory_mb=256).wall_seconds
    10.0
    """

    cpu_seconds: int = 5
    wall_seconds: float = 10.0
    memory_mb: int = 512
    file_mb: int = 8
    max_processes: int = 16  # tasks (processes and threads) in the pids cgroup / RLIMIT_NPROC
    network: bool = False
    audit_hook: bool = True

    def __post_init__(self) -> None:
        for name in ("cpu_seconds", "wall_seconds", "memory_mb", "file_mb", "max_processes"):
            if getattr(self, name) <= 0:
                raise Re3GError(f"sandbox limit {name} must be positive")
        if self.memory_mb < 64:
            raise Re3GError("sandbox memory_mb must be at least 64 (Python itself needs it)")


@dataclass
class SandboxResult:
    """What a sandboxed run did. ``ok`` is True only for exit status 0 within the limits.

    >>> r = run_python("print(1 + 1)")
    >>> r.ok, r.stdout
    (True, '2\\n')
    """

    ok: bool
    returncode: int | None
    stdout: str
    stderr: str
    reason: str
    seconds: float
    isolation: list[str] = field(default_factory=list)


def python_roots() -> list[str]:
    """Folders the sandboxed interpreter may read: its standard library and site-packages."""
    paths = sysconfig.get_paths()
    keys = ("stdlib", "platstdlib", "purelib", "platlib")
    return sorted({os.path.realpath(paths[k]) for k in keys if paths.get(k)})


@contextlib.contextmanager
def _pids_cgroup(max_pids: int) -> Iterator[str | None]:
    """A fresh pids cgroup (v1 or v2) limited to ``max_pids`` tasks, when we may make one."""
    made = None
    for root in PIDS_CGROUP_ROOTS:
        if not os.path.isfile(os.path.join(root, "cgroup.procs")):
            continue
        path = os.path.join(root, f"re3g-sandbox-{uuid.uuid4().hex[:12]}")
        try:
            os.mkdir(path)
            with open(os.path.join(path, "pids.max"), "w") as f:
                f.write(str(max_pids))
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


def _explain(code: int | None, timed_out: bool, stderr: str, lim: SandboxLimits) -> str:
    if timed_out:
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
    if "MemoryError" in last or last.startswith("MemoryError"):
        return f"stopped: memory limit of {lim.memory_mb} MB exceeded (MemoryError)"
    if "BlockingIOError" in last and "Resource temporarily unavailable" in last:
        return f"stopped: process limit of {lim.max_processes} exceeded"
    if "Network is unreachable" in stderr or "Temporary failure in name resolution" in stderr:
        return "failed: no network in the sandbox (" + last + ")"
    if code is not None and code < 0:
        return f"killed by signal {signal.Signals(-code).name}"
    return f"failed: exit status {code}: {last}" if last else f"failed: exit status {code}"


def run_python(code: str, limits: SandboxLimits | None = None,
               files: dict[str, str] | None = None) -> SandboxResult:
    """Run ``code`` (a Python script) in the sandbox and return what happened.

    ``files`` are extra text files written into the working folder first (e.g. a module the
    script imports). The folder is removed afterwards.

    >>> run_python("open('/etc/passwd').read()").reason
    "stopped by the sandbox: reading '/etc/passwd' is not allowed (outside the sandbox folder)"
    """
    if not isinstance(code, str):
        raise Re3GError("sandbox code must be a string")
    lim = limits or SandboxLimits()
    with tempfile.TemporaryDirectory(prefix="re3g-sandbox-") as tmp, \
            _pids_cgroup(lim.max_processes) as cgroup:
        work = os.path.join(tmp, "work")
        os.mkdir(work)
        for name, text in (files or {}).items():
            if os.path.basename(name) != name or name.startswith("."):
                raise Re3GError(f"sandbox file names must be plain names: {name!r}")
            Path(work, name).write_text(text)
        Path(work, "main.py").write_text(code)
        cfg = {"workdir": work, "script": "main.py", "python_roots": python_roots(),
               "cgroup": cgroup, "cpu_seconds": lim.cpu_seconds, "memory_mb": lim.memory_mb,
               "file_mb": lim.file_mb, "max_processes": lim.max_processes,
               "network": lim.network, "audit_hook": lim.audit_hook}
        cfg_path = os.path.join(tmp, "config.json")
        Path(cfg_path).write_text(json.dumps(cfg))
        out_path, err_path = os.path.join(tmp, "stdout"), os.path.join(tmp, "stderr")
        env = {"PATH": "/usr/bin:/bin", "HOME": work, "TMPDIR": work, "LANG": "C.UTF-8"}
        start = time.monotonic()
        timed_out = False
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            proc = subprocess.Popen(
                [sys.executable, "-I", "-B", str(BOOT), cfg_path], cwd=work, env=env,
                stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True)
            try:
                proc.wait(timeout=lim.wall_seconds)
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        seconds = time.monotonic() - start
        stdout = _read_capped(out_path)
        stderr = _read_capped(err_path)
    isolation: list[str] = []
    if stderr.startswith("\x00SANDBOX "):
        head, _, stderr = stderr.partition("\n")
        isolation = [x for x in head.removeprefix("\x00SANDBOX ").split(",") if x]
    code_ = None if timed_out else proc.returncode
    return SandboxResult(ok=code_ == 0, returncode=code_, stdout=stdout, stderr=stderr,
                         reason=_explain(code_, timed_out, stderr, lim), seconds=seconds,
                         isolation=isolation)


def _read_capped(path: str) -> str:
    with open(path, "rb") as f:
        data = f.read(OUTPUT_CAP + 1)
    text = data[:OUTPUT_CAP].decode("utf-8", errors="replace")
    return text + ("\n[... output truncated]" if len(data) > OUTPUT_CAP else "")
