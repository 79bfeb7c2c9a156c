"""How the app ships: the source folder app/ installs as the package ``re3g_app`` (never as a
top-level ``app``), ``re3g`` finds its ``chat`` subcommand through an entry point, and the
package list of pyproject.toml matches the package folders."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from importlib.metadata import distribution, entry_points
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _setuptools() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_package_list_matches_the_tree():
    cfg = _setuptools()
    assert cfg["package-dir"] == {"re3g_app": "app"}
    folders = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "re3g").rglob(
        "__init__.py")}
    assert set(cfg["packages"]) == folders | {"re3g_app"}


def test_app_installs_as_re3g_app(tmp_path):
    # from another folder: the installed packages only, not the checkout on sys.path
    code = ("import importlib.util, re3g_app; print(re3g_app.__file__); "
            "print(importlib.util.find_spec('app'))")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, check=True).stdout.split("\n")
    assert Path(out[0]).resolve().parent == ROOT / "app"
    assert out[1] == "None"  # no package named `app` is installed
    top_level = distribution("re3g").read_text("top_level.txt") or ""
    assert "app" not in top_level.split()


def test_chat_is_an_entry_point_and_re3g_never_imports_the_app():
    (chat,) = [ep for ep in entry_points(group="re3g.commands") if ep.name == "chat"]
    assert chat.value == "re3g_app.cli:register"
    for path in (ROOT / "re3g").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert name.split(".")[0] not in ("app", "re3g_app"), (path, name)


def test_subcommands_keep_their_order():
    from re3g.cli import build_parser

    parser = build_parser()
    (sub,) = [a for a in parser._actions if a.dest == "command"]
    names = list(sub.choices)
    assert names == [n for n in ("index", "search", "evaluate", "ask", "chat", "serve", "code",
                                 "train")
                     if n in names]
    assert "chat" in names
