"""The code assistant: answer a programming question with a code LLM, optionally checked.

The execution check (off by default) follows Semi-Instruct: the model writes tests for its own
code, both run in the sandbox (:mod:`re3g.tools.sandbox`), and on failure the model gets the
error and one more try. The result says whether the code ran and passed its tests.
"""

from __future__ import annotations

import ast
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from re3g.config import CODE_MAX_TOKENS
from re3g.llm.base import ChatLLM, Message
from re3g.tools.sandbox import (
    SandboxLimits,
    SandboxResult,
    SandboxUnavailable,
    find_bwrap,
    run_python,
)

SYSTEM_PROMPT = (
    "You are a careful programming assistant. Answer briefly: one or two sentences, then the "
    "complete code in a single ```python code block. Use only the Python standard library "
    "unless the user asks otherwise. Do not read input from the user in the code.")
TESTS_PROMPT = (
    "Write 3 to 5 Python assert statements that test the code below on typical and edge "
    "cases. Assume its functions are already defined; do not repeat or import them. Reply "
    "with only one ```python code block.\n\nTask: {question}\n\n```python\n{code}\n```")
FIX_PROMPT = (
    "Running your code against tests failed:\n{error}\n\nFix the code. Reply with the "
    "corrected complete code in one ```python code block.")
PYTHON_TAGS = {"python", "py", "python3", ""}
_FENCE = re.compile(r"```[ \t]*([\w+#.-]*)[^\n]*\n(.*?)(?:```|\Z)", re.S)
PASS_MARK = "\x00ALL TESTS PASSED"


@dataclass
class CodeBlock:
    """One fenced code block of an answer.

    >>> extract_code_blocks("Use:\\n```python\\nprint(1)\\n```")[0]
    CodeBlock(language='python', code='print(1)')
    """

    language: str
    code: str


@dataclass
class CheckResult:
    """Outcome of the execution check: did the code pass the tests the model wrote for it.

    >>> CheckResult(True, "3 tests ran and passed", attempts=2).label().split(": ", 1)[1]
    'PASSED after 2 attempts: 3 tests ran and passed'
    """

    passed: bool
    reason: str
    tests: str = ""
    attempts: int = 1
    runs: list[SandboxResult] = field(default_factory=list)

    def label(self) -> str:
        """One line for the user, e.g. ``Execution check: PASSED (2 attempts) ...``."""
        verdict = "PASSED" if self.passed else "FAILED"
        tries = f" after {self.attempts} attempts" if self.attempts > 1 else ""
        return (f"Execution check (sandboxed run against tests the model wrote): "
                f"{verdict}{tries}: {self.reason}")


@dataclass
class CodeAnswer:
    """A code answer: the reply text, its code blocks, and the optional check.

    >>> text = "Slice it:\\n```py\\nprint('abc'[::-1])\\n```"
    >>> ans = CodeAnswer("Reverse a string", text, extract_code_blocks(text))
    >>> ans.python_code
    "print('abc'[::-1])"
    >>> print(ans.to_markdown())
    Slice it:
    ```python
    print('abc'[::-1])
    ```

    With a model (the packaged SmolLM2 on llama.cpp):

    >>> from re3g.tools import answer_code
    >>> from re3g.llm import load_llm
    >>> llm = load_llm("llamacpp:smollm2")                          # doctest: +SKIP
    >>> ans = answer_code("Reverse a string in Python", llm)        # doctest: +SKIP
    >>> print(ans.to_markdown())                                      # doctest: +SKIP
    """

    question: str
    text: str
    code_blocks: list[CodeBlock]
    check: CheckResult | None = None
    model: str = ""
    seconds: float = 0.0

    @property
    def python_code(self) -> str:
        """All Python blocks joined (the code the check runs)."""
        return python_code(self.code_blocks)

    def to_markdown(self) -> str:
        """The reply with code in ```python fences, plus the check line when it ran."""
        out = normalise_fences(self.text)
        if self.check is not None:
            out += "\n\n" + self.check.label()
        return out


def extract_code_blocks(text: str) -> list[CodeBlock]:
    """Fenced blocks of ``text`` (an unterminated last fence counts)."""
    return [CodeBlock(m.group(1).lower(), m.group(2).strip("\n")) for m in _FENCE.finditer(text)]


def python_code(blocks: list[CodeBlock]) -> str:
    """Join the Python (or untagged) blocks."""
    return "\n\n".join(b.code for b in blocks if b.language in PYTHON_TAGS)


def normalise_fences(text: str) -> str:
    """Tag Python fences as ```python; wrap a bare all-code reply in one.

    >>> normalise_fences("```py\\nx = 1\\n```")
    '```python\\nx = 1\\n```'
    """
    if "```" not in text:
        stripped = text.strip()
        if stripped.startswith(("def ", "class ", "import ", "from ")) and _parses(stripped):
            return f"```python\n{stripped}\n```"
        return text

    def tag(m: re.Match[str]) -> str:
        lang = m.group(1).lower()
        body = m.group(2).rstrip("\n")
        if lang in PYTHON_TAGS and (lang or _parses(body)):
            lang = "python"
        return f"```{lang}\n{body}\n```"

    return _FENCE.sub(tag, text)


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except SyntaxError:
        return False
    return True


def clean_tests(tests: str, solution: str) -> str:
    """Drop from model-written tests the definitions and imports that shadow the solution.

    >>> clean_tests("def f(x): return 0\\nassert f(1) == 2", "def f(x): return 2 * x")
    'assert f(1) == 2'
    """
    try:
        tree = ast.parse(tests)
        sol = ast.parse(solution)
    except SyntaxError:
        return tests
    defined = {n.name for n in sol.body if isinstance(n, (ast.FunctionDef, ast.ClassDef,
                                                           ast.AsyncFunctionDef))}
    keep = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)) \
                and node.name in defined:
            continue
        if isinstance(node, ast.ImportFrom) and node.module in ("solution", "main"):
            continue
        keep.append(node)
    return ast.unparse(ast.Module(body=keep, type_ignores=[]))


def run_tests(solution: str, tests: str, limits: SandboxLimits | None = None) -> SandboxResult:
    """Run ``tests`` against ``solution`` (a module ``solution``) in the sandbox."""
    main = f"from solution import *\n\n{tests}\n\nprint({PASS_MARK!r})\n"
    return run_python(main, limits, files={"solution.py": solution})


def _messages(question: str, history: list[Message] | None) -> list[Message]:
    return [{"role": "system", "content": SYSTEM_PROMPT}, *(history or []),
            {"role": "user", "content": question}]


def stream_code(question: str, llm: ChatLLM, history: list[Message] | None = None,
                max_tokens: int = CODE_MAX_TOKENS) -> Iterator[str]:
    """Stream the model's answer (for chat UIs); run :func:`check_answer` afterwards if wanted."""
    yield from llm.stream(_messages(question, history), max_tokens=max_tokens)


def check_answer(question: str, text: str, llm: ChatLLM, limits: SandboxLimits | None = None,
                 retry: bool = True, max_tokens: int = CODE_MAX_TOKENS,
                 tests_max_tokens: int = 256) -> tuple[str, CheckResult]:
    """Run the execution check on an answer; return (final answer text, result).

    The model writes tests for its code; both run in the sandbox; on failure the model sees the
    error and rewrites the code once (``retry``), which runs against the same tests.
    """
    code = python_code(extract_code_blocks(text))
    if not code.strip():
        return text, CheckResult(False, "the answer has no Python code to run")
    try:  # before the model spends time writing tests that could not run
        find_bwrap()
    except SandboxUnavailable as exc:
        return text, CheckResult(False, str(exc))
    reply = llm.chat([{"role": "user", "content": TESTS_PROMPT.format(
        question=question, code=code)}], max_tokens=tests_max_tokens)
    tests = clean_tests(python_code(extract_code_blocks(reply)) or reply, code)
    if "assert" not in tests:
        return text, CheckResult(False, "the model wrote no assert-based tests", tests)
    runs = [run_tests(code, tests, limits)]
    attempts = 1
    if not _passed(runs[-1]) and retry:
        error = (runs[-1].reason + "\n" + runs[-1].stderr.strip()[-1500:]).strip()
        fixed = llm.chat(_messages(question, None) + [
            {"role": "assistant", "content": text},
            {"role": "user", "content": FIX_PROMPT.format(error=error)}], max_tokens=max_tokens)
        new_code = python_code(extract_code_blocks(fixed))
        if new_code.strip():
            attempts, text, code = 2, fixed, new_code
            runs.append(run_tests(code, tests, limits))
    last = runs[-1]
    ok = _passed(last)
    reason = f"{tests.count('assert')} tests ran and passed" if ok else last.reason
    return text, CheckResult(ok, reason, tests, attempts, runs)


def _passed(r: SandboxResult) -> bool:
    return r.ok and PASS_MARK.strip("\x00") in r.stdout


def answer_code(question: str, llm: ChatLLM | None = None, check: bool = False,
                history: list[Message] | None = None, max_tokens: int = CODE_MAX_TOKENS,
                limits: SandboxLimits | None = None) -> CodeAnswer:
    """Answer a programming question; with ``check=True`` also run the execution check.

    ``llm`` defaults to the offline default model (:func:`re3g.llm.load_llm`).

    >>> ans = answer_code("Write is_even(n)", check=True)            # doctest: +SKIP
    >>> ans.check.passed                                              # doctest: +SKIP
    True
    """
    from re3g.errors import QueryError

    if not isinstance(question, str) or not question.strip():
        raise QueryError("the code question is empty")
    if llm is None:
        from re3g.llm import load_llm

        llm = load_llm()
    start = time.perf_counter()
    text = llm.chat(_messages(question, history), max_tokens=max_tokens)
    result = None
    if check:
        text, result = check_answer(question, text, llm, limits, max_tokens=max_tokens)
    return CodeAnswer(question, text, extract_code_blocks(text), result,
                      getattr(llm, "name", type(llm).__name__), time.perf_counter() - start)
