"""``re3g train {reranker,extractor,generator}``: fine-tune the project's models."""

from __future__ import annotations

import argparse
import importlib

TRAINERS = {
    "reranker": "re3g.train.reranker",
    "extractor": "re3g.train.extractor",
    "generator": "re3g.train.generator",
}


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("train", help="fine-tune the reranker, span extractor or generator")
    tsub = parser.add_subparsers(dest="model", metavar="MODEL")
    for name, module_name in TRAINERS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        p = tsub.add_parser(name, help=module.__doc__.strip().splitlines()[0])
        module.add_arguments(p)
        p.set_defaults(func=module.run)
