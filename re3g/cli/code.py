"""``re3g code "question"``: answer a programming question with a code LLM (offline default).

    re3g code "Write a function that checks whether a string is a palindrome"
    re3g code --check "Write is_prime(n)"                 # run model-written tests in a sandbox
    re3g code --backend openai --base-url http://127.0.0.1:8000/v1 --model scoder "..."
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator

from re3g.config import CODE_BACKENDS, CODE_MAX_TOKENS, CodeConfig


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("code", help="answer a programming question with a code LLM",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("question", nargs="+", help="the programming question")
    p.add_argument("--backend", choices=CODE_BACKENDS, default="auto",
                   help="auto (llama.cpp if installed, else transformers), llamacpp, "
                        "transformers or openai (default: auto)")
    p.add_argument("--model", default=None,
                   help="GGUF path, model folder or HF id, alias 'default' (packaged "
                        "Qwen2.5-Coder-0.5B) or 'smollm2'; the served model name for openai")
    p.add_argument("--base-url", default=None, help="OpenAI-compatible endpoint (openai backend)")
    p.add_argument("--api-key", default=None, help="API key for the endpoint, if it needs one")
    p.add_argument("--max-tokens", type=int, default=CODE_MAX_TOKENS,
                   help=f"reply budget (default {CODE_MAX_TOKENS})")
    p.add_argument("--check", action="store_true",
                   help="execution check: run the code against tests the model writes, in a "
                        "sandbox (no network, CPU/memory/time limits); retry once on failure")
    p.add_argument("--no-stream", action="store_true", help="print the answer only when done")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from re3g.llm import load_llm
    from re3g.tools.code import answer_code, stream_code

    question = " ".join(args.question).strip()
    code = code_config(args)
    llm = load_llm(code)
    max_tokens = code.max_tokens or CODE_MAX_TOKENS
    if args.no_stream or args.check:
        ans = answer_code(question, llm, check=args.check, max_tokens=max_tokens)
        print(ans.to_markdown())
        return 0 if ans.check is None or ans.check.passed else 1
    for line in fence_lines(stream_code(question, llm, max_tokens=max_tokens)):
        print(line, end="", flush=True)
    print()
    return 0


def code_config(args: argparse.Namespace) -> CodeConfig:
    """The command line as a checked ``[code]`` table (endpoint options for openai only).

    >>> ns = argparse.Namespace(backend="openai", model=None, max_tokens=256,
    ...                         base_url="http://127.0.0.1:8000/v1", api_key=None)
    >>> code_config(ns).llm_spec()
    {'backend': 'openai', 'model': 'default', 'base_url': 'http://127.0.0.1:8000/v1'}
    """
    endpoint = ({"base_url": args.base_url, "api_key": args.api_key}
                if args.backend == "openai" else {})
    return CodeConfig(backend=args.backend, model=args.model or "default",
                      max_tokens=args.max_tokens, **endpoint).validate("re3g code")


def fence_lines(pieces: Iterator[str]) -> Iterator[str]:
    """Re-emit streamed text line by line, tagging opening Python fences as ```python.

    >>> "".join(fence_lines(iter(["```py", "\\nx = 1\\n``", "`\\n"])))
    '```python\\nx = 1\\n```\\n'
    """
    inside, buf = False, ""
    for piece in pieces:
        buf += piece
        while "\n" in buf:
            line, buf = buf.split("\n", 1)
            line, inside = _tag(line, inside)
            yield line + "\n"
    if buf:
        yield _tag(buf, inside)[0]


def _tag(line: str, inside: bool) -> tuple[str, bool]:
    stripped = line.strip()
    if not stripped.startswith("```"):
        return line, inside
    if not inside and stripped[3:].strip().lower() in ("", "py", "python", "python3"):
        return "```python", True
    return line, not inside
