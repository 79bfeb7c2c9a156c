"""Import a module that a build may leave out (a subcommand, a trainer, an evaluation stage)."""

from __future__ import annotations

import importlib
from types import ModuleType


def import_optional(name: str) -> ModuleType | None:
    """The module ``name``, or None when that module itself is absent.

    An ImportError raised *inside* the module (a missing dependency) still propagates.

    >>> import_optional("re3g.no_such_module") is None
    True
    """
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            return None
        raise
