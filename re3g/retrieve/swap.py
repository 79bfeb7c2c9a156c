"""Writing a folder (an index) crash-safely: build beside it, swap it in, recover after a crash.

A build writes everything into a hidden sibling ``.NAME.tmp-PID-MS`` (the manifest last, so a
folder with a ``manifest.json`` is complete) and then swaps it in with two renames::

    NAME              -> .NAME.old-PID-MS     (the previous version, kept until the end)
    .NAME.tmp-PID-MS  -> NAME                 (the new version)
    rm -r .NAME.old-PID-MS

A process killed between the two renames leaves no ``NAME``, but both complete versions are
still there. :func:`recover` (run by ``build_index`` before a build and by ``read_manifest``
when ``NAME`` is missing) puts the newest complete one back: the finished new build if it is
complete, else the previous version. It also deletes the leftovers of dead builds: a
``.NAME.tmp-*`` or ``.NAME.old-*`` folder whose process is gone (or is this process but no
longer building it), or that nobody touched for :data:`STALE_AFTER_S` (a guard against a
recycled process id).

    >>> from pathlib import Path
    >>> parse_leftover(Path("indexes/.sample.tmp-4242-1700000000000"))
    ('sample', 'tmp', 4242)
    >>> parse_leftover(Path("indexes/sample")) is None
    True
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import threading
import time
from pathlib import Path

MANIFEST = "manifest.json"
STALE_AFTER_S = 24 * 3600
"""A leftover untouched for this long is stale even if a process with its id runs."""
_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.(?P<kind>tmp|old)-(?P<pid>\d+)(?:-\d+)?$")
_active: set[Path] = set()  # folders this process is writing or swapping right now
_lock = threading.Lock()
_last_stamp = 0


def parse_leftover(path: Path) -> tuple[str, str, int] | None:
    """(name, "tmp" | "old", pid) of a build's hidden sibling folder, or None."""
    m = _LEFTOVER.match(path.name)
    return (m["name"], m["kind"], int(m["pid"])) if m else None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def is_stale(path: Path, now: float | None = None) -> bool:
    """True when the leftover ``path`` belongs to no running build.

    Another process's folder is stale when that process is gone; this process's when it is
    not writing it any more; any folder untouched for :data:`STALE_AFTER_S`.
    """
    parsed = parse_leftover(path)
    if parsed is None:
        return False
    with _lock:
        if path.resolve() in _active:
            return False
    pid = parsed[2]
    if pid == os.getpid() or not _pid_alive(pid):
        return True
    try:
        age = (now or time.time()) - path.stat().st_mtime
    except OSError:
        return False
    return age > STALE_AFTER_S


def _stamp() -> int:
    """A millisecond time stamp, strictly increasing within this process (unique names)."""
    global _last_stamp
    with _lock:
        _last_stamp = max(_last_stamp + 1, time.time_ns() // 1_000_000)
        return _last_stamp


def new_build_dir(out: Path) -> Path:
    """Create and register the hidden sibling ``.NAME.tmp-PID-MS`` a build of ``out`` writes."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}-{_stamp()}"
    with _lock:
        _active.add(tmp.resolve())
    tmp.mkdir()
    return tmp


def release(path: Path) -> None:
    """Forget ``path`` as being written and delete it if it is still there (a failed build)."""
    shutil.rmtree(path, ignore_errors=True)
    with _lock:
        _active.discard(path.resolve())


def swap_into_place(tmp: Path, out: Path) -> None:
    """Move the complete folder ``tmp`` to ``out``, keeping the previous ``out`` until the new
    one is in place. An exception between the renames puts the previous version back; a crash
    there is repaired by :func:`recover`."""
    old = out.parent / f".{out.name}.old-{os.getpid()}-{_stamp()}"
    with _lock:
        _active.add(old.resolve())
    try:
        had_old = out.exists()
        if had_old:
            os.replace(out, old)
        try:
            os.replace(tmp, out)
        except BaseException:
            if had_old and not out.exists():
                with contextlib.suppress(OSError):  # recover() restores it if this fails too
                    os.replace(old, out)
            raise
        shutil.rmtree(old, ignore_errors=True)
    finally:
        with _lock:
            _active.discard(old.resolve())


def leftovers(out: Path) -> list[Path]:
    """The hidden build folders (``.NAME.tmp-*``, ``.NAME.old-*``) beside ``out``."""
    if not out.parent.is_dir():
        return []
    found = []
    for p in out.parent.iterdir():
        parsed = parse_leftover(p)
        if parsed is not None and parsed[0] == out.name and p.is_dir():
            found.append(p)
    return found


def recover(out: str | Path) -> bool:
    """Repair ``out`` after a crashed build: put back the newest complete version when ``out``
    is missing (a finished new build first, else the previous version), and delete the
    leftovers of dead builds. Returns True when ``out`` was restored."""
    out = Path(out)
    stale = [p for p in leftovers(out) if is_stale(p)]
    restored = False
    if not out.exists():
        complete = [p for p in stale if (p / MANIFEST).is_file()]
        # newest first, and a finished new build (tmp) before the version it replaced (old)
        complete.sort(key=lambda p: (parse_leftover(p)[1] == "tmp",  # type: ignore[index]
                                     p.stat().st_mtime), reverse=True)
        for candidate in complete:
            try:
                os.replace(candidate, out)
            except OSError:
                continue
            restored = True
            stale.remove(candidate)
            break
    for p in stale:
        shutil.rmtree(p, ignore_errors=True)
    return restored


def recover_all(folder: str | Path) -> list[Path]:
    """:func:`recover` every index with leftovers directly under ``folder``; returns the
    folders that were restored."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    names = {parsed[0] for p in folder.iterdir() if (parsed := parse_leftover(p))}
    return [folder / name for name in sorted(names) if recover(folder / name)]
