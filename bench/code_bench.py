"""Code-tool bench: load time and speed of a chat backend on this machine, and the pass rate on
HumanEval-style tasks (bench/code_tasks.py, hidden tests) without and with the execution check.

    .venv/bin/python bench/code_bench.py                       # offline default model
    .venv/bin/python bench/code_bench.py --backend transformers --speed-only
    .venv/bin/python bench/code_bench.py --model smollm2 --tasks 5 --out /tmp/x.json

Writes bench/results/code_bench.json (or --out) and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from code_tasks import TASKS  # noqa: E402

from re3g.llm import load_llm  # noqa: E402
from re3g.tools.code import check_answer, extract_code_blocks, python_code, run_tests  # noqa: E402
from re3g.tools.sandbox import SandboxLimits  # noqa: E402

SPEED_PROMPT = [{"role": "user", "content":
                 "Write a Python function that returns the n-th triangular number, "
                 "with a docstring and two examples."}]


def count_tokens(llm, text: str) -> int:
    """Tokens of ``text`` under the backend's own tokenizer (pieces as a fallback)."""
    if hasattr(llm, "_llm"):
        return len(llm._llm.tokenize(text.encode(), add_bos=False, special=False))
    if hasattr(llm, "_tok"):
        return len(llm._tok(text, add_special_tokens=False)["input_ids"])
    return len(text.split())


def speed(llm, max_tokens: int) -> dict:
    start = time.perf_counter()
    first = None
    pieces = []
    for piece in llm.stream(SPEED_PROMPT, max_tokens=max_tokens):
        if first is None:
            first = time.perf_counter() - start
        pieces.append(piece)
    total = time.perf_counter() - start
    n = count_tokens(llm, "".join(pieces))
    decode = total - (first or 0.0)
    return {"tokens": n, "seconds": round(total, 2), "first_token_s": round(first or 0.0, 2),
            "tokens_per_s": round(n / total, 2),
            "decode_tokens_per_s": round((n - 1) / decode, 2) if decode > 0 and n > 1 else None}


def hidden_pass(text: str, tests: str, limits: SandboxLimits) -> bool:
    code = python_code(extract_code_blocks(text))
    if not code.strip():
        return False
    r = run_tests(code, tests, limits)
    return r.ok and "ALL TESTS PASSED" in r.stdout


def summarize(rows: list[dict]) -> dict:
    k = len(rows)
    return {
        "tasks": k,
        "pass_rate_plain": round(sum(r["pass_plain"] for r in rows) / k, 3),
        "pass_rate_checked": round(sum(r["pass_checked"] for r in rows) / k, 3),
        "self_tests_passed_rate": round(sum(r["self_tests_passed"] for r in rows) / k, 3),
        "retried": sum(r["attempts"] > 1 for r in rows),
        "mean_answer_s": round(sum(r["answer_s"] for r in rows) / k, 1),
        "mean_check_s": round(sum(r["check_s"] for r in rows) / k, 1),
    }


def run_tasks(llm, n: int, max_tokens: int, on_row=None) -> tuple[list[dict], dict]:
    from re3g.tools.code import SYSTEM_PROMPT

    limits = SandboxLimits(cpu_seconds=5, wall_seconds=15)
    rows = []
    for i, task in enumerate(TASKS[:n], start=1):
        t0 = time.perf_counter()
        msgs = [{"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": task["prompt"]}]
        text = llm.chat(msgs, max_tokens=max_tokens)
        t1 = time.perf_counter()
        plain = hidden_pass(text, task["tests"], limits)
        final, check = check_answer(task["prompt"], text, llm, limits, max_tokens=max_tokens)
        t2 = time.perf_counter()
        checked = hidden_pass(final, task["tests"], limits)
        rows.append({"task": task["name"], "pass_plain": plain, "pass_checked": checked,
                     "self_tests_passed": check.passed, "attempts": check.attempts,
                     "check_reason": check.reason[:200], "self_tests": check.tests[:600],
                     "answer_s": round(t1 - t0, 1),
                     "check_s": round(t2 - t1, 1)})
        print(f"[{i:2d}/{n}] {task['name']:18s} plain={'PASS' if plain else 'fail'} "
              f"checked={'PASS' if checked else 'fail'} self={check.passed} "
              f"tries={check.attempts} ({t1 - t0:.1f}s + {t2 - t1:.1f}s)", flush=True)
        if on_row:
            on_row(rows)
    return rows, summarize(rows)


def table(path: Path) -> str:
    """Markdown table of the runs stored in ``path`` (for docs/code_tool.md)."""
    runs = json.loads(path.read_text())["runs"]
    lines = ["| backend | load s | tokens/s (decode) | first token s | tasks | plain pass "
             "| checked pass | self-tests passed | retried | load avg |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in runs.items():
        s, sp = r.get("summary", {}), r["speed"]
        done = f"{s['tasks']}{'' if r.get('complete') else ' (partial)'}" if s else "-"
        lines.append(
            f"| {name} | {r['load_s']} | {sp['tokens_per_s']} ({sp['decode_tokens_per_s']}) "
            f"| {sp['first_token_s']} | {done} | {s.get('pass_rate_plain', '-')} "
            f"| {s.get('pass_rate_checked', '-')} | {s.get('self_tests_passed_rate', '-')} "
            f"| {s.get('retried', '-')} | {r['machine'].get('loadavg_at_start', ['-'])[0]} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", default="auto")
    ap.add_argument("--model", default="default")
    ap.add_argument("--tasks", type=int, default=len(TASKS))
    ap.add_argument("--max-tokens", type=int, default=384)
    ap.add_argument("--speed-only", action="store_true")
    ap.add_argument("--speed-tokens", type=int, default=128)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "code_bench.json"))
    ap.add_argument("--table", action="store_true", help="print the stored results as markdown")
    args = ap.parse_args(argv)
    if args.table:
        print(table(Path(args.out)))
        return 0

    t0 = time.perf_counter()
    llm = load_llm({"backend": args.backend, "model": args.model})
    load_s = time.perf_counter() - t0
    print(f"loaded {llm.name} in {load_s:.1f}s", flush=True)
    speed(llm, 8)  # warm-up
    sp = speed(llm, args.speed_tokens)
    print(f"speed: {sp}", flush=True)
    result: dict = {"backend": llm.name, "load_s": round(load_s, 2), "speed": sp,
                    "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                "loadavg_at_start": [round(x, 2) for x in os.getloadavg()]}}
    out = Path(args.out)
    key = f"{llm.name}{' (speed only)' if args.speed_only else ''}"

    def save(rows: list[dict] | None = None) -> None:
        if rows:
            result.update(summary=summarize(rows), rows=rows)
            result["complete"] = len(rows) == min(args.tasks, len(TASKS))
            result["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
        out.parent.mkdir(parents=True, exist_ok=True)
        old = json.loads(out.read_text()) if out.exists() else {}
        runs = old.get("runs", {}) if isinstance(old, dict) else {}
        runs[key] = result
        tmp = out.with_suffix(".json.tmp")
        tmp.write_text(json.dumps({"runs": runs}, indent=1))
        os.replace(tmp, out)

    save()
    if not args.speed_only:
        rows, summary = run_tasks(llm, args.tasks, args.max_tokens, on_row=save)
        print(json.dumps(summary, indent=1))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
