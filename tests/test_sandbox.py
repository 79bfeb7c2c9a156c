"""The sandbox stops runaway or hostile code and says why (real subprocesses, no mocks)."""

from __future__ import annotations

import json
import os
import socket
import tempfile
import threading
import uuid
from pathlib import Path

import pytest

from re3g.tools.sandbox import SandboxLimits, SandboxUnavailable, run_python

FAST = SandboxLimits(cpu_seconds=1, wall_seconds=4, memory_mb=256)


def test_runs_plain_code_and_captures_output():
    r = run_python("import math\nprint(math.factorial(5))", FAST)
    assert r.ok and r.returncode == 0 and r.stdout == "120\n"
    assert "rlimits" in r.isolation and "audit-hook" in r.isolation


def test_isolation_lists_what_the_operating_system_applied():
    r = run_python("print('hi')", FAST)
    for item in ("bwrap", "userns", "mntns", "pidns", "netns", "ipcns", "utsns", "cgroupns",
                 "uid-nobody", "no-caps", "no-new-privs", "seccomp", "rlimits", "audit-hook"):
        assert item in r.isolation, item
    if os.geteuid() == 0:  # started as root: the sandbox is the host's nobody, not root
        assert "host-uid-65534" in r.isolation


def test_only_the_interpreter_is_visible():
    code = "import json, os, sys\nprint(json.dumps([sorted(os.listdir('/')), sys.prefix, " \
           "[os.path.exists(p) for p in ('/etc', '/bin/sh', '/usr/bin', '/work')]]))"
    r = run_python(code, SandboxLimits(audit_hook=False))
    top, prefix, present = json.loads(r.stdout)
    assert set(top) <= {"dev", "lib", "lib64", "proc", "run", "tmp", "usr", Path(prefix).parts[1]}
    assert present == [False, False, False, False]


def test_seccomp_refuses_namespace_and_tracing_calls():
    code = "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n" \
           "print(libc.unshare(0), os.strerror(ctypes.get_errno()))\n" \
           "print(libc.ptrace(0, 0, 0, 0), os.strerror(ctypes.get_errno()))"
    r = run_python(code, SandboxLimits(audit_hook=False))
    assert r.ok and r.stdout == "-1 Operation not permitted\n" * 2


def test_refused_without_bubblewrap(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SandboxUnavailable, match="bubblewrap .bwrap.*apt-get install bubblewrap"):
        run_python("print('never runs')", FAST)


def test_refused_when_bubblewrap_cannot_make_namespaces(monkeypatch):
    with tempfile.TemporaryDirectory() as folder:  # one the sandbox uid may enter
        os.chmod(folder, 0o755)
        fake = Path(folder, "bwrap")
        fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\n"
                        "exit 1\n")
        fake.chmod(0o755)
        monkeypatch.setenv("PATH", folder)
        with pytest.raises(SandboxUnavailable, match="No permissions to create new namespace"):
            run_python("print('never runs')", FAST)


def test_reports_a_python_error():
    r = run_python("raise ValueError('boom')", FAST)
    assert not r.ok and "ValueError: boom" in r.reason


def test_infinite_loop_is_stopped():
    r = run_python("while True:\n    pass", FAST)
    assert not r.ok
    assert "CPU time limit" in r.reason or "wall-clock limit" in r.reason


def test_sleeping_forever_hits_the_wall_clock():
    r = run_python("import time\ntime.sleep(60)", SandboxLimits(wall_seconds=1.5))
    assert not r.ok and r.returncode is None and "wall-clock limit of 1.5 s" in r.reason
    assert r.seconds < 5


def test_fork_bomb_is_refused_by_the_hook():
    r = run_python("import os\nwhile True:\n    os.fork()", FAST)
    assert not r.ok and "process creation is not allowed" in r.reason


def test_fork_bomb_hits_the_kernel_process_limit_without_the_hook():
    lim = SandboxLimits(cpu_seconds=2, wall_seconds=6, max_processes=8, audit_hook=False)
    r = run_python("import os\nwhile True:\n    os.fork()", lim)
    assert not r.ok
    assert "process limit" in r.reason or "wall-clock" in r.reason or "CPU" in r.reason


def test_subprocess_is_refused():
    r = run_python("import subprocess\nsubprocess.run(['ls', '/'])", FAST)
    assert not r.ok and "process creation is not allowed" in r.reason


@pytest.mark.parametrize("hook", [True, False])
def test_memory_bomb_is_stopped(hook):
    lim = SandboxLimits(cpu_seconds=3, wall_seconds=8, memory_mb=256, audit_hook=hook)
    r = run_python("a = []\nwhile True:\n    a.append(bytearray(10**7))", lim)
    assert not r.ok and "memory limit of 256 MB" in r.reason


def test_reading_etc_passwd_is_refused():
    r = run_python("print(open('/etc/passwd').read())", FAST)
    assert not r.ok and "root:" not in r.stdout
    assert "reading '/etc/passwd' is not allowed" in r.reason


def test_reading_the_project_is_refused():
    here = os.path.abspath(__file__)
    r = run_python(f"print(open({here!r}).read())", FAST)
    assert not r.ok and "is not allowed" in r.reason and "sandbox" not in r.stdout


def test_writing_outside_the_folder_is_refused():
    target = Path(__file__).resolve().parent / f"escaped-{uuid.uuid4().hex}.txt"
    r = run_python(f"open({str(target)!r}, 'w').write('x')", FAST)
    assert not r.ok and "writing" in r.reason and "not allowed" in r.reason
    assert not target.exists()


def test_the_working_folder_is_private_and_fresh_each_run():
    name = f"re3g-sandbox-{uuid.uuid4().hex}.txt"
    r = run_python(f"import os\nopen({name!r}, 'w').write('hi')\nprint(os.getcwd())", FAST)
    assert r.ok and r.stdout == "/tmp\n"
    assert not Path("/tmp", name).exists()  # the sandbox's /tmp is its own tmpfs
    again = run_python(f"import os\nprint(os.path.exists({name!r}))", FAST)
    assert again.stdout == "False\n"


def test_file_size_is_limited():
    lim = SandboxLimits(cpu_seconds=3, wall_seconds=8, file_mb=1)
    r = run_python("f = open('big', 'wb')\nwhile True:\n    f.write(b'x' * 10**5)", lim)
    assert not r.ok and "file size limit of 1 MB" in r.reason


def test_working_folder_size_is_limited():
    lim = SandboxLimits(cpu_seconds=3, wall_seconds=8, file_mb=1)
    code = "for i in range(6):\n    open(f'part{i}', 'wb').write(b'x' * 900_000)"
    r = run_python(code, lim)
    assert not r.ok and "working folder's limit of 4 MB is full" in r.reason


@pytest.fixture()
def listening_port():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    stop = threading.Event()

    def accept():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
                conn.sendall(b"reachable")
                conn.close()
            except OSError:
                pass

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield srv.getsockname()[1]
    stop.set()
    t.join()
    srv.close()


def test_socket_is_refused_by_the_hook(listening_port):
    code = f"import socket\ns = socket.create_connection(('127.0.0.1', {listening_port}))\n" \
           "print(s.recv(20))"
    r = run_python(code, FAST)
    assert not r.ok and "network access is not allowed" in r.reason
    assert "reachable" not in r.stdout


def test_network_namespace_blocks_sockets_without_the_hook(listening_port):
    code = f"import socket\ns = socket.create_connection(('127.0.0.1', {listening_port}), 2)\n" \
           "print(s.recv(20))"
    r = run_python(code, SandboxLimits(wall_seconds=6, audit_hook=False))
    assert "reachable" not in r.stdout and "netns" in r.isolation
    assert not r.ok and "no network" in r.reason


def test_server_survives_many_bad_runs():
    for code in ["import os\nos._exit(3)", "raise SystemExit(4)", "import sys\nsys.exit('bye')"]:
        r = run_python(code, FAST)
        assert not r.ok and r.returncode in (1, 3, 4)
    assert run_python("print('still fine')", FAST).ok


def test_host_noise_before_the_boot_marker_is_not_a_failed_start() -> None:
    """A line the host writes between fork and exec (gRPC's fork handler, when a library
    using it is loaded in this process) comes before the boot's marker: the run still
    counts as started, and that line is not part of the program's stderr. Without the
    marker the sandbox did not start."""
    from re3g.tools.sandbox import SandboxLimits, SandboxUnavailable, _Outcome, _result

    noise = "E1202 ev_epoll1_linux.cc:373] epoll_wait error: Bad file descriptor\n"
    got = _result(_Outcome(0, "hi\n", noise + "\x00SANDBOX userns,pid\nwarn\n", 0.1),
                  SandboxLimits(), [])
    assert got.ok and got.stdout == "hi\n" and got.stderr == "warn\n"
    assert {"userns", "pid"} <= set(got.isolation)
    with pytest.raises(SandboxUnavailable, match="did not start"):
        _result(_Outcome(1, "", noise, 0.1), SandboxLimits(), [])
