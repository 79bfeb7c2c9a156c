"""First answer after start-up versus a warm turn, through the real chat server.

Each start runs ``re3g chat`` (``python -m re3g.cli chat``) as a subprocess on a free port of
127.0.0.1 over the default sample corpus and waits until it reports ready: its ready log line
("open http://...") has been printed and its HTTP endpoint answers. Then one
``gradio_client.Client`` asks the first question (timed), and ``--warm`` more questions, each
in a fresh conversation (``/clear`` between them, not timed). Questions are the opening user
turns of the answerable conversations in ``data/suite/sample_dialogues.json``; every start
opens with a different one. The server's process group is stopped after each start.

    python bench/first_answer.py                        # 5 starts x (1 first + 10 warm)
    python bench/first_answer.py --starts 3 --warm 5 --name first_answer_quick
    python bench/first_answer.py --server-args "--no-rerank"

Reports p50 first-answer latency, p50 warm-turn latency and their ratio (the goal of issue 17:
at most 1.5), prints a table and writes ``bench/results/<name>.json`` (default
``first_answer``) with every sample and the load average around the run.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import save  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DIALOGUES = ROOT / "data" / "suite" / "sample_dialogues.json"
READY_LINE = "open http://"
START_TIMEOUT_S = 900.0


def questions(path: Path = DIALOGUES) -> list[str]:
    """The opening user turn of every answerable conversation (its agent reply has
    references), in file order, without duplicates."""
    data = json.loads(path.read_text())["dial_data"]
    out: list[str] = []
    for by_doc in data.values():
        for dialogues in by_doc.values():
            for dialogue in dialogues:
                turns = dialogue["turns"]
                if (len(turns) >= 2 and turns[0]["role"] == "user" and turns[1].get("references")
                        and turns[0]["utterance"] not in out):
                    out.append(turns[0]["utterance"])
    return out


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "config", timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


def start_server(port: int, extra: list[str], log_path: Path) -> tuple[subprocess.Popen, dict]:
    """Start ``re3g chat`` in its own process group and wait until it reports ready; returns
    the process and the seconds (from the start) at which the ready line was printed, the
    HTTP endpoint first answered, and both were true."""
    cmd = [sys.executable, "-m", "re3g.cli", "chat", "--host", "127.0.0.1", "--port", str(port),
           *extra]
    log = log_path.open("w")
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    line_s = http_s = None
    while time.perf_counter() - t0 < START_TIMEOUT_S:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with code {proc.returncode}; see {log_path}")
        now = time.perf_counter() - t0
        if line_s is None and READY_LINE in log_path.read_text(errors="replace"):
            line_s = now
        if http_s is None and _answers(url):
            http_s = time.perf_counter() - t0
        if line_s is not None and http_s is not None:
            return proc, {"ready_line_s": round(line_s, 2), "http_s": round(http_s, 2),
                          "ready_s": round(max(line_s, http_s), 2)}
        time.sleep(0.05)
    stop_server(proc)
    raise SystemExit(f"server not ready within {START_TIMEOUT_S:.0f} s; see {log_path}")


def stop_server(proc: subprocess.Popen) -> None:
    """Stop the server's whole process group (SIGTERM, then SIGKILL after 20 s)."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=20)
    except ProcessLookupError:
        pass


def ask(client: Any, question: str) -> float:
    """Seconds for one /chat call; a failed or empty reply stops the bench."""
    t0 = time.perf_counter()
    reply = client.predict(question, api_name="/chat")
    took = time.perf_counter() - t0
    if not isinstance(reply, str) or not reply.strip():
        raise SystemExit(f"empty reply to {question!r}: {reply!r}")
    return took


def one_start(n: int, pool: list[str], warm: int, extra: list[str], logs: Path) -> dict:
    """One server start: the first question, then ``warm`` more in fresh conversations."""
    from gradio_client import Client

    first_q = pool[n % len(pool)]
    others = [q for q in pool if q != first_q]
    warm_qs = [others[(n + i) % len(others)] for i in range(warm)]
    port = free_port()
    proc, ready = start_server(port, extra, logs / f"server-{n}.log")
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        first = ask(client, first_q)
        warm_s = []
        for q in warm_qs:
            client.predict(api_name="/clear")
            warm_s.append(ask(client, q))
    finally:
        stop_server(proc)
    return {**ready, "first_question": first_q, "first_s": round(first, 4),
            "warm_questions": warm_qs, "warm_s": [round(x, 4) for x in warm_s]}


def commit() -> str:
    """The checkout's commit (with "+dirty" when tracked files differ from it)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              check=False).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return head + ("+dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


def summarize(starts: list[dict]) -> dict[str, Any]:
    """p50 of the first answers, p50 of every warm turn, their ratio."""
    first = [s["first_s"] for s in starts]
    warm = [x for s in starts for x in s["warm_s"]]
    p50_first, p50_warm = statistics.median(first), statistics.median(warm)
    return {"p50_first_s": round(p50_first, 4), "p50_warm_s": round(p50_warm, 4),
            "ratio": round(p50_first / p50_warm, 2),
            "max_first_s": round(max(first), 4), "max_warm_s": round(max(warm), 4),
            "p50_ready_s": round(statistics.median(s["ready_s"] for s in starts), 2),
            "n_first": len(first), "n_warm": len(warm)}


def main(argv: list[str] | None = None) -> int:
    """Run the bench; exit status 0 (the ratio is reported, not asserted)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--starts", type=int, default=5, help="server starts (default 5)")
    ap.add_argument("--warm", type=int, default=10, help="warm questions per start (default 10)")
    ap.add_argument("--server-args", default="", help="extra `re3g chat` options")
    ap.add_argument("--name", default="first_answer",
                    help="result file name under bench/results/ (default first_answer)")
    args = ap.parse_args(argv)
    pool = questions()
    if args.warm >= len(pool):
        raise SystemExit(f"--warm must be below {len(pool)} (questions available)")
    logs = Path(tempfile.mkdtemp(prefix="re3g-first-answer-"))
    load_before = os.getloadavg()
    starts = []
    for n in range(args.starts):
        run = one_start(n, pool, args.warm, args.server_args.split(), logs)
        starts.append(run)
        print(f"start {n + 1}/{args.starts}: ready {run['ready_s']:.1f} s, first "
              f"{run['first_s'] * 1000:.0f} ms, warm p50 "
              f"{statistics.median(run['warm_s']) * 1000:.0f} ms", flush=True)
    summary = summarize(starts)
    result = {"command": "python bench/first_answer.py " + " ".join(argv or sys.argv[1:]),
              "commit": commit(), "server_args": args.server_args,
              "load_avg_1m_before": round(load_before[0], 2),
              "load_avg_1m_after": round(os.getloadavg()[0], 2),
              **summary, "starts": starts, "server_logs": str(logs)}
    path = save(args.name, result)
    print()
    print(f"{'':>14} {'p50 ms':>8} {'max ms':>8} {'n':>4}")
    print(f"{'first answer':>14} {summary['p50_first_s'] * 1000:>8.0f} "
          f"{summary['max_first_s'] * 1000:>8.0f} {summary['n_first']:>4}")
    print(f"{'warm turn':>14} {summary['p50_warm_s'] * 1000:>8.0f} "
          f"{summary['max_warm_s'] * 1000:>8.0f} {summary['n_warm']:>4}")
    print(f"ratio first/warm (p50): {summary['ratio']:.2f}   ready after "
          f"{summary['p50_ready_s']:.1f} s (p50)   load 1m {result['load_avg_1m_before']} -> "
          f"{result['load_avg_1m_after']}   commit {result['commit']}")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
