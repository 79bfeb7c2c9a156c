"""``re3g train {reranker,extractor,generator,answerability,judge,cross-other}``: fine-tune the
project's models and learn the "not in the documents" decision."""

from __future__ import annotations

import argparse

from re3g.optional import import_optional

TRAINERS = {
    "reranker": "re3g.train.reranker",
    "extractor": "re3g.train.extractor",
    "generator": "re3g.train.generator",
    "answerability": "re3g.train.answerability",
    "judge": "re3g.train.judge",
    "cross-other": "re3g.train.cross_other",
}


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("train", help="fine-tune the reranker, span extractor or generator")
    tsub = parser.add_subparsers(dest="model", metavar="MODEL")
    for name, module_name in TRAINERS.items():
        module = import_optional(module_name)
        if module is None:
            continue
        p = tsub.add_parser(name, help=module.__doc__.strip().splitlines()[0])
        module.add_arguments(p)
        p.set_defaults(func=module.run)
