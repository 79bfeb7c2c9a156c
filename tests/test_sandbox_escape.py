"""Hostile code against the sandbox: each escape attempt must be stopped by the operating system.

Every snippet runs twice where it is quick: once with the audit hook on after an attempt to
disarm it (clearing its tables, patching its path check, appending "/" to its allowed-path lists
found through ``gc``: what disarmed the hook of the interpreter-only sandbox), and once with no
hook at all, as if that attempt had succeeded. What must hold then is decided by the kernel:
bubblewrap's namespaces, the unprivileged uid, the rlimits and the seccomp filter. Real
processes, real files, a real TCP server; no mocks.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from re3g.tools.sandbox import SandboxLimits, SandboxResult, run_python

pytestmark = pytest.mark.skipif(
    shutil.which("bwrap") is None and os.geteuid() != 0,
    reason="bubblewrap (bwrap) is not installed and this user cannot install it "
           "(`apt-get install bubblewrap`, or `make sandbox` as root)")

REPO = Path(__file__).resolve().parents[1]
MODES = ("hook-disarmed", "no-hook")

# What sandboxed code can do to the in-process audit hook: clear its tables, replace its path
# check, and widen every list of absolute paths it can reach (the hook's allowed roots).
DISARM = """\
import gc, sys
_boot = sys.modules.get("__main__")
for _name in ("DENIED_EVENTS", "PATH_EVENTS", "LIST_EVENTS"):
    try:
        getattr(_boot, _name).clear()
    except Exception:
        pass
try:
    _boot._inside = lambda path, roots: True
except Exception:
    pass
for _obj in gc.get_objects():
    if isinstance(_obj, list) and _obj and all(isinstance(x, str) and x.startswith("/")
                                               for x in _obj):
        _obj.append("/")
"""


def hostile(code: str, mode: str = "no-hook", **limits: float) -> SandboxResult:
    """Run ``code`` in the sandbox: with the hook disarmed first, or with no hook at all."""
    hook = mode == "hook-disarmed"
    settings = {"cpu_seconds": 2, "wall_seconds": 8, "memory_mb": 256, **limits}
    prelude = DISARM if hook else ""
    return run_python(prelude + textwrap.dedent(code), SandboxLimits(audit_hook=hook, **settings))


def host_pids_with(token: str) -> list[int]:
    """Processes on this machine whose command line contains ``token``."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            cmdline = Path("/proc", name, "cmdline").read_bytes()
        except OSError:
            continue
        if token.encode() in cmdline:
            found.append(int(name))
    return found


def wait_gone(token: str, seconds: float = 3.0) -> list[int]:
    """Poll until no process carries ``token``; return the ones still alive after ``seconds``."""
    deadline = time.monotonic() + seconds
    while (alive := host_pids_with(token)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive


@pytest.fixture()
def token() -> Iterator[str]:
    """A unique marker for processes a snippet starts; any left over are killed afterwards."""
    mark = f"re3g-escape-{uuid.uuid4().hex}"
    yield mark
    for pid in host_pids_with(mark):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def refused(r: SandboxResult) -> bool:
    """The run did not succeed and says why."""
    return not r.ok and bool(r.reason) and not r.reason.startswith("ran")


# -- files ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_host_passwd_is_not_readable(mode):
    r = hostile("print(open('/etc/passwd').read())", mode)
    host_lines = [ln for ln in Path("/etc/passwd").read_text().splitlines() if ln.strip()]
    assert refused(r), r
    assert not any(line in r.stdout for line in host_lines)


@pytest.mark.parametrize("mode", MODES)
def test_checkout_is_not_writable(mode):
    target = REPO / f"escaped-{uuid.uuid4().hex}.txt"
    try:
        r = hostile(f"open({str(target)!r}, 'w').write('escaped')", mode)
        assert refused(r), r
        assert not target.exists()
    finally:
        target.unlink(missing_ok=True)


@pytest.mark.parametrize("mode", MODES)
def test_checkout_is_not_readable(mode):
    r = hostile(f"print(open({str(Path(__file__).resolve())!r}).read())", mode)
    assert refused(r), r
    assert "hostile(" not in r.stdout


@pytest.mark.parametrize("mode", MODES)
def test_host_tmp_is_not_reachable(mode):
    name = f"re3g-escape-{uuid.uuid4().hex}.txt"
    code = f"import os\nopen('/tmp/{name}', 'w').write('x')\nprint(sorted(os.listdir('/tmp')))"
    r = hostile(code, mode)
    assert not Path("/tmp", name).exists()
    others = {n for n in os.listdir("/tmp") if n.startswith(("re3g-", "pytest-"))}
    assert not any(f"'{n}'" in r.stdout for n in others)


@pytest.mark.parametrize("mode", MODES)
def test_root_home_and_ssh_keys_are_not_readable(mode):
    code = """
    import json, os
    seen = {}
    for path in ("/root", os.path.expanduser("~"), "/home"):
        try:
            seen[path] = sorted(os.listdir(path))
        except OSError as exc:
            seen[path] = repr(exc)
    for key in ("/root/.ssh/id_rsa", "/root/.ssh/id_ed25519", "/root/.ssh/authorized_keys"):
        try:
            seen[key] = open(key).read()
        except OSError as exc:
            seen[key] = repr(exc)
    print(json.dumps(seen))
    """
    r = hostile(code, mode)
    try:
        host_names = set(os.listdir("/root")) - {".pyenv"}  # the interpreter may live there
    except OSError:
        host_names = set()
    if r.ok:
        seen = json.loads(r.stdout)
        listed = {n for v in seen.values() if isinstance(v, list) for n in v}
        assert not listed & host_names
        assert all(not isinstance(v, str) or v.startswith(("FileNotFound", "Permission"))
                   for k, v in seen.items() if k.startswith("/root/.ssh"))
    else:
        assert refused(r)


# -- processes -----------------------------------------------------------------------------------

SHELL_MARK = "SHELL-RAN-42"
SHELLS = ["/bin/sh", "/usr/bin/sh", "/bin/bash", "/usr/bin/bash", "/bin/dash", "/usr/bin/dash"]


@pytest.mark.parametrize("mode", MODES)
def test_no_shell_through_subprocess(mode):
    code = f"""
    import subprocess
    for sh in {SHELLS!r}:
        try:
            print(subprocess.run([sh, "-c", "echo SHELL-RAN-$((6*7))"], capture_output=True,
                                 text=True).stdout)
        except OSError as exc:
            print("no", sh, exc)
    raise SystemExit("no shell ran")
    """
    r = hostile(code, mode)
    assert SHELL_MARK not in r.stdout and refused(r), r


@pytest.mark.parametrize("mode", MODES)
def test_no_shell_through_posixsubprocess_fork_exec(mode):
    # _posixsubprocess.fork_exec raises no audit event: only the operating system can stop it
    code = f"""
    import _posixsubprocess, os
    for sh in {SHELLS!r}:
        sh = sh.encode()
        r, w = os.pipe()
        try:
            pid = _posixsubprocess.fork_exec(
                [sh, b"-c", b"echo SHELL-RAN-$((6*7))"], [sh], True, (w,), None, None,
                -1, -1, -1, -1, -1, -1, r, w, False, False, -1, None, None, None, -1, None,
                False)
            os.close(w)
            err = os.read(r, 200)
            os.waitpid(pid, 0)
            print("exec", sh, err)
        except OSError as exc:
            print("no", sh, exc)
    raise SystemExit("no shell ran")
    """
    r = hostile(code, mode)
    assert SHELL_MARK not in r.stdout and refused(r), r


@pytest.mark.parametrize("mode", MODES)
def test_no_shell_through_execv(mode):
    code = f"""
    import os
    for sh in {SHELLS!r}:
        if os.path.exists(sh):
            os.execv(sh, [sh, "-c", "echo SHELL-RAN-$((6*7))"])
    raise SystemExit("no shell to run")
    """
    r = hostile(code, mode)
    assert SHELL_MARK not in r.stdout and refused(r), r


ENV_SNOOP = """
import os
print(dict(os.environ))
for pid in ["self", str(os.getppid())] + [p for p in os.listdir("/proc") if p.isdigit()]:
    try:
        print(pid, open(f"/proc/{pid}/environ", "rb").read())
    except OSError as exc:
        print(pid, exc)
"""


@pytest.mark.parametrize("mode", MODES)
def test_parent_environment_is_not_readable(mode):
    # the secret must be in the caller's start-up environment (what /proc/<pid>/environ shows),
    # so the sandbox is called from a fresh interpreter that starts with it
    secret = f"re3g-secret-{uuid.uuid4().hex}"
    caller = (f"import sys\nsys.path.insert(0, {str(Path(__file__).parent)!r})\n"
              f"from test_sandbox_escape import hostile\n"
              f"r = hostile({ENV_SNOOP!r}, {mode!r})\nprint(r.stdout, r.stderr)")
    env = {**os.environ, "RE3G_ESCAPE_SECRET": secret}
    out = subprocess.run([sys.executable, "-c", caller], env=env, cwd=REPO, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert secret not in out.stdout


def _leave_cgroup_and_exec(token: str, source: str) -> str:
    """Snippet: try to leave the pids cgroup, then exec a Python carrying ``token`` in argv."""
    return f"""
    import os, sys
    for procs in ("/sys/fs/cgroup/pids/cgroup.procs", "/sys/fs/cgroup/cgroup.procs",
                  "/sys/fs/cgroup/unified/cgroup.procs"):
        try:
            with open(procs, "w") as f:
                f.write(str(os.getpid()))
        except OSError:
            pass
    os.execv(sys.executable, [sys.executable, "-c", {source!r}, {token!r}])
    """


BOUNDED_BOMB = """
import os, time
level = forks = 0
while forks < 4 and level < 3:  # at most 1 + 4 + 16 + 64 = 85 processes
    try:
        pid = os.fork()
    except OSError:
        forks += 1
        time.sleep(0.05)
        continue
    if pid == 0:
        level, forks = level + 1, 0
    else:
        forks += 1
time.sleep(60)
"""


def test_fork_bomb_is_held_to_the_process_limit(token):
    limit = 8
    code = _leave_cgroup_and_exec(token, BOUNDED_BOMB)
    result: list[SandboxResult] = []
    runner = threading.Thread(target=lambda: result.append(
        hostile(code, max_processes=limit, wall_seconds=5)))
    start = time.monotonic()
    runner.start()
    most = 0
    while runner.is_alive():
        most = max(most, len(host_pids_with(token)))
        time.sleep(0.05)
    runner.join()
    assert time.monotonic() - start < 20
    assert most <= limit, f"{most} bomb processes ran (limit {limit})"
    assert refused(result[0])
    assert not wait_gone(token)


@pytest.mark.parametrize("parent", ["exits at once", "outlives the wall clock"])
def test_setsid_child_dies_with_the_run(token, parent):
    sleeper = "import time\ntime.sleep(60)"
    child = textwrap.indent(textwrap.dedent(_leave_cgroup_and_exec(token, sleeper)), "    ")
    wait = "time.sleep(60)" if parent == "outlives the wall clock" else "pass"
    code = f"import os, time\nif os.fork() == 0:\n    os.setsid()\n{child}\n{wait}\n"
    r = hostile(code, wall_seconds=3)
    assert r.seconds < 10
    assert not wait_gone(token), "a setsid() child outlived the sandboxed run"


# -- network -------------------------------------------------------------------------------------


@pytest.fixture()
def listening_port() -> Iterator[int]:
    """A TCP server on 127.0.0.1 that greets every client with b'reachable'."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    srv.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            conn.sendall(b"reachable")
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield srv.getsockname()[1]
    stop.set()
    thread.join()
    srv.close()


@pytest.mark.parametrize("mode", MODES)
def test_parent_network_namespace_cannot_be_joined(mode, listening_port):
    code = f"""
    import ctypes, os, socket
    libc = ctypes.CDLL(None, use_errno=True)
    for pid in [str(os.getppid())] + [p for p in os.listdir("/proc") if p.isdigit()]:
        try:
            fd = os.open(f"/proc/{{pid}}/ns/net", os.O_RDONLY)
        except OSError:
            continue
        libc.setns(fd, 0x40000000)  # CLONE_NEWNET
        try:
            s = socket.create_connection(("127.0.0.1", {listening_port}), 1)
            print(s.recv(20))
            break
        except OSError as exc:
            print(pid, exc)
    raise SystemExit("no way to the parent's network")
    """
    r = hostile(code, mode)
    assert "reachable" not in r.stdout and refused(r), r


@pytest.mark.parametrize("mode", MODES)
def test_new_namespaces_cannot_be_made(mode):
    # a new user namespace would give the code capabilities (mount, network set-up) in it
    code = """
    import ctypes, os
    libc = ctypes.CDLL(None, use_errno=True)
    for name, flags in [("user", 0x10000000), ("user+mount", 0x10020000), ("net", 0x40000000)]:
        if libc.unshare(flags) == 0:
            print("unshared", name)
        else:
            print("refused", name, os.strerror(ctypes.get_errno()))
    """
    r = hostile(code, mode)
    assert "unshared" not in r.stdout, r


# -- resources -----------------------------------------------------------------------------------


def test_memory_hog_is_stopped():
    r = hostile("a = []\nwhile True:\n    a.append(bytearray(10**7))", cpu_seconds=4)
    assert refused(r) and "memory limit of 256 MB" in r.reason


def test_memory_of_the_whole_process_tree_is_bounded():
    # each child stays under the per-process limit (256 MB); together they would hold 1.2 GB
    code = """
    import os, time
    kids = []
    for _ in range(6):
        pid = os.fork()
        if pid == 0:
            block = bytearray(200 * 2**20)
            for i in range(0, len(block), 4096):
                block[i] = 1
            time.sleep(1.5)
            os._exit(0)
        kids.append(pid)
    print("killed", sum(os.waitpid(k, 0)[1] & 0x7F == 9 for k in kids))
    """
    r = hostile(code, wall_seconds=20)
    assert "memory-cgroup" in r.isolation, r.isolation
    assert r.stdout.startswith("killed") and int(r.stdout.split()[1]) >= 4, r


def test_cpu_of_the_whole_process_tree_is_bounded():
    # four busy children for 2 s would use up to 4 CPU seconds on 2 cores; the tree gets 1 CPU
    code = """
    import os, resource, time
    kids = []
    for _ in range(4):
        pid = os.fork()
        if pid == 0:
            start = time.time()
            while time.time() - start < 2:
                pass
            os._exit(0)
        kids.append(pid)
    for k in kids:
        os.waitpid(k, 0)
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(round(used.ru_utime + used.ru_stime, 2))
    """
    r = hostile(code, wall_seconds=10)
    assert "cpu-cgroup" in r.isolation, r.isolation
    assert float(r.stdout) <= 2.6, r


def test_cpu_loop_is_stopped():
    r = hostile("while True:\n    pass", cpu_seconds=1, wall_seconds=6)
    assert refused(r) and ("CPU time limit" in r.reason or "wall-clock" in r.reason)
    assert r.seconds < 10
