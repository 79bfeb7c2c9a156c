"""Giving memory back to the operating system after a big job (an index build), and measuring it.

Python frees objects, but glibc's allocator keeps the freed pages of torch, FAISS and NumPy in
its arenas, so a long-lived server's resident size stays at its peak after one large build.
:func:`release_memory` runs the garbage collector and asks glibc to return free pages
(``malloc_trim``); elsewhere it only collects.

    >>> rss_bytes() > 0
    True
    >>> release_memory()
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def _libc() -> Any:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") else None


def release_memory() -> None:
    """Collect garbage, then return free heap pages to the OS where glibc allows it."""
    gc.collect()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


def rss_bytes() -> int:
    """This process's resident set size in bytes (Linux ``/proc``; 0 where unavailable)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0
