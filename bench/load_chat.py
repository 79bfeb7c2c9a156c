"""Load check of the chat: N concurrent sessions asking questions for a fixed time.

Each session is one gradio_client ``Client`` (its own conversation) that asks questions about
the sample corpus back to back through ``/chat``, clearing its conversation every 4 turns.
Reports p50/p95/max latency per request, throughput, and every failure.

    python bench/load_chat.py                          # starts `re3g chat` on a free port
    python bench/load_chat.py --url http://127.0.0.1:7860/ --sessions 20 --seconds 120

Prints a table and writes JSON to bench/results/load_chat.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = [
    "How much does a day pass cost?",
    "Is there a discount for students?",
    "How do I return a bike when the station is full?",
    "What happens if my bike is stolen?",
    "How do I report a damaged bike?",
    "What can go in the compost?",
    "How much is a half plot in the community garden?",
    "When do applications for garden plots open?",
    "Which file types can I upload?",
    "What does the highlighted span mean?",
    "What is hybrid retrieval?",
    "Why does every reply say no good evidence?",
]


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, extra: list[str]) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "re3g.cli", "chat", "--port", str(port), *extra]
    log = tempfile.NamedTemporaryFile("w", prefix="re3g-load-server-", suffix=".log",  # noqa: SIM115
                                      delete=False)
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 600
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with code {proc.returncode}; see {log.name}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return proc
        except OSError:
            time.sleep(1)
    proc.kill()
    raise SystemExit("server did not start within 10 minutes")


class Session(threading.Thread):
    def __init__(self, n: int, url: str, stop_at: float) -> None:
        super().__init__(daemon=True)
        self.n, self.url, self.stop_at = n, url, stop_at
        self.latencies: list[float] = []
        self.failures: list[str] = []

    def run(self) -> None:
        from gradio_client import Client

        try:
            client = Client(self.url, verbose=False)
        except Exception as exc:  # a failure to connect is a failure of the run
            self.failures.append(f"connect: {type(exc).__name__}: {exc}")
            return
        turn = self.n  # sessions start at different questions
        while time.time() < self.stop_at:
            question = QUESTIONS[turn % len(QUESTIONS)]
            t0 = time.perf_counter()
            try:
                reply = client.predict(question, api_name="/chat")
                if not isinstance(reply, str) or not reply.strip():
                    raise ValueError(f"empty reply {reply!r}")
                self.latencies.append(time.perf_counter() - t0)
            except Exception as exc:
                self.failures.append(f"{question!r}: {type(exc).__name__}: {exc}"[:300])
            turn += 1
            if turn % 4 == 0:
                try:
                    client.predict(api_name="/clear")
                except Exception as exc:
                    self.failures.append(f"clear: {type(exc).__name__}: {exc}"[:300])


def run(url: str, sessions: int, seconds: float) -> dict:
    from gradio_client import Client

    warm = Client(url, verbose=False)  # first question loads the pipeline: not measured
    warm.predict(QUESTIONS[0], api_name="/chat")
    stop_at = time.time() + seconds
    threads = [Session(i, url, stop_at) for i in range(sessions)]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 600)
    wall = time.time() - t0
    lat = [x for t in threads for x in t.latencies]
    failures = [f for t in threads for f in t.failures]
    return {
        "url": url, "sessions": sessions, "seconds": seconds, "wall_s": round(wall, 1),
        "requests_ok": len(lat), "failures": len(failures), "failure_samples": failures[:10],
        "p50_s": round(percentile(lat, 50), 3), "p95_s": round(percentile(lat, 95), 3),
        "max_s": round(max(lat), 3) if lat else None,
        "mean_s": round(statistics.fmean(lat), 3) if lat else None,
        "throughput_rps": round(len(lat) / wall, 2) if wall else None,
        "per_session_requests": [len(t.latencies) for t in threads],
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", help="a running chat server (default: start one)")
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--server-args", default="", help="extra `re3g chat` options when starting")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "load_chat.json"))
    args = ap.parse_args(argv)
    (ROOT / "bench" / "results").mkdir(parents=True, exist_ok=True)
    proc = None
    url = args.url
    if not url:
        port = free_port()
        proc = start_server(port, args.server_args.split())
        url = f"http://127.0.0.1:{port}/"
    try:
        result = run(url, args.sessions, args.seconds)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
    result["server_args"] = args.server_args
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"{'sessions':>8} {'seconds':>7} {'ok':>6} {'failed':>6} {'p50 s':>7} {'p95 s':>7} "
          f"{'max s':>7} {'req/s':>6}")
    print(f"{result['sessions']:>8} {result['seconds']:>7.0f} {result['requests_ok']:>6} "
          f"{result['failures']:>6} {result['p50_s']:>7.2f} {result['p95_s']:>7.2f} "
          f"{result['max_s'] or 0:>7.2f} {result['throughput_rps'] or 0:>6.2f}")
    for f in result["failure_samples"]:
        print("  failure:", f)
    print(f"wrote {args.out}")
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
