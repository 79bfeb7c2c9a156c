"""Tools beside the grounded pipeline: the code assistant, its router and the sandbox.

    from re3g.tools import answer_code, route, run_python
    route("How do I reverse a list in Python?")      # 'code'
    ans = answer_code("Write a function that checks for palindromes", check=True)
    print(ans.to_markdown())
    run_python("open('/etc/passwd').read()").reason   # stopped by the sandbox: ...
"""

from __future__ import annotations

from re3g.tools.code import (
    CheckResult,
    CodeAnswer,
    CodeBlock,
    answer_code,
    check_answer,
    extract_code_blocks,
    stream_code,
)
from re3g.tools.router import Route, RouteDecision, decide, route, split_command
from re3g.tools.sandbox import SandboxLimits, SandboxResult, SandboxUnavailable, run_python

__all__ = [
    "CheckResult", "CodeAnswer", "CodeBlock", "answer_code", "check_answer",
    "extract_code_blocks", "stream_code", "Route", "RouteDecision", "decide", "route",
    "split_command", "SandboxLimits", "SandboxResult", "SandboxUnavailable", "run_python",
]
