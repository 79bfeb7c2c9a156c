"""The sandbox's seccomp filter, compiled by libseccomp (``libseccomp.so.2``, through ctypes).

The filter allows every system call except those that change the kernel's view of the process
(namespaces, mounts, tracing other processes, loading kernel code, keyrings, BPF, io_uring,
clocks, ...), which fail with ``EPERM``. libseccomp writes the BPF program (for this machine's
architecture; calls made through another architecture's ABI kill the process); bubblewrap
loads it with ``--seccomp FD`` right before it starts the sandboxed interpreter.

>>> program = compile_filter()
>>> len(program) % 8, len(program) > 8 * len(DENIED_SYSCALLS)
(0, True)
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import functools
import tempfile

# System calls sandboxed code has no business making. Names unknown on this architecture are
# skipped (libseccomp resolves each name for the native architecture).
DENIED_SYSCALLS = (
    # namespaces and mounts: no new view of the system, no joining another's
    "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree",
    "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
    # other processes' memory and file descriptors
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp",
    # kernel code, kernel interfaces with a history of exploits
    "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter",
    "io_uring_register", "keyctl", "add_key", "request_key", "kexec_load", "kexec_file_load",
    "init_module", "finit_module", "delete_module", "lookup_dcookie", "uselib",
    # files by handle (bypasses path checks), the machine's state
    "open_by_handle_at", "name_to_handle_at", "swapon", "swapoff", "reboot", "syslog", "acct",
    "quotactl", "quotactl_fd", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
    "sethostname", "setdomainname", "vhangup", "iopl", "ioperm", "fanotify_init",
)
SCMP_ACT_ALLOW = 0x7FFF0000
NR_SCMP_ERROR = -1  # what seccomp_syscall_resolve_name returns for an unknown name


def scmp_act_errno(code: int) -> int:
    """libseccomp's ``SCMP_ACT_ERRNO(code)``: fail the call with ``code``."""
    return 0x00050000 | (code & 0x0000FFFF)


@functools.lru_cache(maxsize=1)
def libseccomp() -> ctypes.CDLL:
    """The libseccomp shared library with the few functions used here typed.

    Raises OSError when it is not installed (Debian: ``apt-get install libseccomp2``).
    """
    name = ctypes.util.find_library("seccomp") or "libseccomp.so.2"
    lib = ctypes.CDLL(name, use_errno=True)
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    lib.seccomp_release.restype = None
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_syscall_resolve_name.restype = ctypes.c_int
    lib.seccomp_rule_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int,
                                     ctypes.c_uint]
    lib.seccomp_rule_add.restype = ctypes.c_int
    lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.seccomp_export_bpf.restype = ctypes.c_int
    return lib


def _check(rc: int, what: str) -> None:
    if rc < 0:
        raise OSError(-rc, f"libseccomp: {what} failed: {errno.errorcode.get(-rc, rc)}")


@functools.lru_cache(maxsize=4)
def compile_filter(denied: tuple[str, ...] = DENIED_SYSCALLS) -> bytes:
    """The BPF program (raw ``struct sock_filter`` array) that fails ``denied`` with EPERM."""
    lib = libseccomp()
    ctx = lib.seccomp_init(SCMP_ACT_ALLOW)
    if not ctx:
        raise OSError(errno.ENOMEM, "libseccomp: seccomp_init failed")
    try:
        for name in denied:
            nr = lib.seccomp_syscall_resolve_name(name.encode())
            if nr != NR_SCMP_ERROR:
                _check(lib.seccomp_rule_add(ctx, scmp_act_errno(errno.EPERM), nr, 0),
                       f"seccomp_rule_add({name})")
        with tempfile.TemporaryFile() as out:
            _check(lib.seccomp_export_bpf(ctx, out.fileno()), "seccomp_export_bpf")
            out.seek(0)
            return out.read()
    finally:
        lib.seccomp_release(ctx)
