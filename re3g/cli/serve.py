"""``re3g serve --ray``: serve the pipeline with Ray Serve (retrieval, selection and generation
as deployments with their own replica counts) behind a JSON HTTP endpoint on 127.0.0.1.

    re3g serve --ray                                   # a local cluster, http://127.0.0.1:8000
    re3g serve --ray 10.0.0.5:6379 --selection-replicas 4 --index doc2dial
    curl -s 127.0.0.1:8000/answer -d '{"session": "s1", "message": "How much is a day pass?"}'
    re3g chat --backend http://127.0.0.1:8000          # the chat answers through it

Routes: POST /answer ({"history": [...]} or {"session", "message"}), POST
/v1/chat/completions (OpenAI-style), GET /health (see re3g.scale.serve).
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import time

from re3g.cli.common import add_pipeline_options, quiet_libraries


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve", help="serve the pipeline over HTTP with Ray Serve (replicas per stage)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ray", nargs="?", const="", default="", metavar="ADDRESS",
                   help="the Ray cluster: local (an in-process cluster on 127.0.0.1), "
                        "HOST:PORT, ray://HOST:PORT or auto; without a value $RAY_ADDRESS, "
                        "else local (needs pip install -e '.[scale]')")
    p.add_argument("--host", default="127.0.0.1",
                   help="address the HTTP endpoint listens on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="HTTP port (default 8000)")
    add_pipeline_options(p, k_help="passages retrieved per question")
    for stage in ("retrieval", "selection", "generation"):
        p.add_argument(f"--{stage}-replicas", type=int, default=1, metavar="N",
                       help=f"replicas of the {stage} deployment (default 1)")
    p.add_argument("--replica-cpus", type=float, default=1.0,
                   help="CPUs each stage replica asks the cluster for (default 1; a local "
                        "cluster counts enough CPUs for every replica)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from re3g.config import Config
    from re3g.retrieve.locate import resolve_index
    from re3g.scale import serve
    from re3g.scale.cluster import RayTarget, connect, shutdown

    quiet_libraries()
    counts = (args.retrieval_replicas, args.selection_replicas, args.generation_replicas)
    if min(counts) < 1 or args.replica_cpus < 0:
        raise SystemExit("re3g serve: replica counts must be >= 1 and --replica-cpus >= 0")
    config = Config.load(args.config, index=args.index, mode=args.mode, k=args.k,
                         rerank=args.rerank, generator=args.generator, docs=args.docs)
    # replicas run in other processes (other machines): paths they read are absolute here
    config = config.with_overrides(index=str(Path(resolve_index(config.index)).resolve()))
    if config.docs:
        config = config.with_overrides(docs=str(Path(config.docs).resolve()))
    replicas = serve.Replicas(*counts, cpus=args.replica_cpus)
    target = RayTarget.parse(args.ray or None)
    need = int(replicas.total * max(args.replica_cpus, 1.0)) + 1
    connect(target.address, num_cpus=max(need, _cpu_count()) if target.local else None)
    # SIGTERM (a service manager, `kill`) stops as Ctrl+C does: deployments and a local
    # cluster go with this process
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        url = serve.start(config, host=args.host, port=args.port, replicas=replicas)
        print(f"re3g serve: {url}/answer and {url}/v1/chat/completions (retrieval x"
              f"{counts[0]}, selection x{counts[1]}, generation x{counts[2]} on "
              f"{target.address}); Ctrl+C stops", file=sys.stderr, flush=True)
        while True:
            time.sleep(3600)
    finally:
        with contextlib.suppress(Exception):
            serve.stop()
        if target.local:
            shutdown()


def _cpu_count() -> int:
    import os

    return os.cpu_count() or 1
