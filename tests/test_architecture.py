"""The import graph keeps the house rules (docs/architecture.md): inference never imports
training, the library never imports the app, and each stage imports only what comes before
it in the data flow. Every import counts, also those inside functions."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "re3g"

# package -> packages it must never import (a stage never reaches into a later one)
LATER = {
    "re3g.types": {"re3g.models", "re3g.data", "re3g.retrieve", "re3g.rank", "re3g.extract",
                   "re3g.decide", "re3g.generate", "re3g.pipeline", "re3g.evaluate"},
    "re3g.config": {"re3g.models", "re3g.data", "re3g.retrieve", "re3g.rank", "re3g.extract",
                    "re3g.decide", "re3g.generate", "re3g.pipeline", "re3g.evaluate"},
    "re3g.models": {"re3g.data", "re3g.retrieve", "re3g.rank", "re3g.extract", "re3g.decide",
                    "re3g.generate", "re3g.pipeline", "re3g.evaluate"},
    "re3g.data": {"re3g.retrieve", "re3g.rank", "re3g.extract", "re3g.decide",
                  "re3g.generate", "re3g.pipeline", "re3g.evaluate"},
    "re3g.retrieve": {"re3g.rank", "re3g.extract", "re3g.decide", "re3g.generate",
                      "re3g.pipeline", "re3g.evaluate"},
    "re3g.rank": {"re3g.extract", "re3g.decide", "re3g.generate", "re3g.pipeline",
                  "re3g.evaluate"},
    "re3g.extract": {"re3g.decide", "re3g.generate", "re3g.pipeline", "re3g.evaluate"},
    "re3g.decide": {"re3g.generate", "re3g.pipeline", "re3g.evaluate"},
    "re3g.generate": {"re3g.pipeline", "re3g.evaluate"},
    "re3g.pipeline": {"re3g.evaluate"},
}
TRAINING = "re3g.train"
# the only modules allowed to import training code: the trainers and their CLI entry point
MAY_TRAIN = ("re3g.train", "re3g.cli.train")


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Every module ``path`` imports (absolute names; relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    here = module_name(path).split(".")
    if path.name != "__init__.py":
        here = here[:-1]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(here[: len(here) - node.level + 1])
                mod = f"{base}.{node.module}" if node.module else base
            else:
                mod = node.module or ""
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)
    return out


def library_modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_the_walker_sees_function_level_and_relative_imports() -> None:
    seen = imports_of(PACKAGE / "train" / "qa.py")
    assert "re3g.evaluate.grounding" in seen  # imported inside a function
    app = imports_of(ROOT / "app" / "layout.py")
    assert any(name.startswith("app.") for name in app)  # `from . import x` resolved


@pytest.mark.parametrize("path", library_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_inference_never_imports_training(path: Path) -> None:
    name = module_name(path)
    if any(_within(name, allowed) for allowed in MAY_TRAIN):
        return
    bad = sorted(i for i in imports_of(path) if _within(i, TRAINING))
    assert not bad, f"{name} imports training code: {bad}"


@pytest.mark.parametrize("path", library_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_library_never_imports_the_app(path: Path) -> None:
    bad = sorted(i for i in imports_of(path)
                 if _within(i, "app") or _within(i, "re3g_app") or _within(i, "gradio"))
    assert not bad, f"{module_name(path)} imports the app: {bad}"


@pytest.mark.parametrize("path", library_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_stages_import_only_earlier_stages(path: Path) -> None:
    name = module_name(path)
    for package, later in LATER.items():
        if _within(name, package):
            bad = sorted(i for i in imports_of(path) if any(_within(i, x) for x in later))
            assert not bad, f"{name} ({package}) imports a later stage: {bad}"


def test_no_package_named_app_is_installed() -> None:
    import importlib.util

    spec = importlib.util.find_spec("re3g_app")
    assert spec is not None and spec.origin is not None
    assert Path(spec.origin).resolve().parent == (ROOT / "app").resolve()
