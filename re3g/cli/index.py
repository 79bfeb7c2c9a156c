"""``re3g index``: build BM25 + dense indexes over a corpus."""

from __future__ import annotations

import argparse
import time

from re3g.cli.common import INDEX_ROOT, quiet_libraries
from re3g.config import BACKENDS, FAISS_KINDS, INDEX_KINDS, PASSAGE_MAX_WORDS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "index", help="build an index (BM25 + dense) over documents",
        description="Split documents into passages and build BM25 (Lucene) and dense (FAISS) "
                    "indexes under indexes/NAME. The old index stays usable until the new one "
                    "is complete.",
        epilog="examples: re3g index --docs ../shared/data/doc2dial/doc2dial_doc.json "
               "--name doc2dial;  re3g index --docs ../shared/data/doc2dial/doc2dial_doc.json "
               "--name doc2dial-milvus --backend milvus --uri "
               "./indexes/doc2dial-milvus/milvus.db --vectors-from indexes/doc2dial")
    p.add_argument("--docs", required=True,
                   help="doc2dial/MultiDoc2Dial doc JSON, or a folder/file of .txt .md .html")
    p.add_argument("--name", help="index name (folder under indexes/); default: the --out "
                   "folder's name, else from --docs")
    p.add_argument("--out", help="explicit output folder (overrides --name as the folder)")
    p.add_argument("--model", default=None,
                   help="sentence-transformers encoder (default: packaged all-MiniLM-L6-v2)")
    p.add_argument("--faiss", default=None, choices=FAISS_KINDS,
                   help="dense index: exact (flat) or approximate (hnsw, ivf); default flat "
                        "(FAISS), hnsw (Milvus)")
    p.add_argument("--backend", default="lucene", choices=BACKENDS,
                   help="lucene: Lucene + FAISS files (default); milvus: a Milvus collection "
                        "(needs pip install -e '.[scale]')")
    p.add_argument("--uri", default=None,
                   help="Milvus URI: a Milvus Lite file (default: INDEX/milvus.db) or "
                        "http(s)://host:19530; a token is read from $RE3G_MILVUS_TOKEN")
    p.add_argument("--span-vectors", action=argparse.BooleanOptionalAction, default=True,
                   help="embed every document span for the extractor now (default; about half "
                        "of a build's time), so no turn waits for it; --no-span-vectors leaves "
                        "it to first use")
    p.add_argument("--vectors-from", default=None, metavar="INDEX",
                   help="reuse the dense vectors of a built Lucene/FAISS index over the same "
                        "passages and encoder instead of encoding again")
    p.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS",
                   help="encode passages with Ray Data on a cluster: local (an in-process "
                        "cluster on 127.0.0.1), HOST:PORT, ray://HOST:PORT or auto; without a "
                        "value $RAY_ADDRESS, else local (needs pip install -e '.[scale]')")
    p.add_argument("--kinds", default=",".join(INDEX_KINDS),
                   help="which parts to build (default both)")
    p.add_argument("--max-words", type=int, default=PASSAGE_MAX_WORDS,
                   help=f"passage length cap in words (default {PASSAGE_MAX_WORDS})")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from re3g.data.corpus import load_corpus
    from re3g.retrieve import build_index

    quiet_libraries()
    encode = None
    if args.ray is not None:  # join the cluster first: a bad address leaves everything as is
        from re3g.scale.cluster import connect
        from re3g.scale.ray_index import ray_encoding

        target = connect(args.ray or None)
        encode = ray_encoding(target.address)
    docs = load_corpus(args.docs)
    # the index is named as asked, else as the folder it is written to (what the chat lists),
    # else after the documents
    name = args.name or (Path(args.out).name if args.out else
                         Path(args.docs).stem.replace("_doc", ""))
    out = Path(args.out) if args.out else INDEX_ROOT / name
    t0 = time.perf_counter()
    build_index(docs, out, name=name, source=str(args.docs), model=args.model,
                kinds=[k.strip() for k in args.kinds.split(",") if k.strip()],
                faiss_kind=args.faiss, max_words=args.max_words, backend=args.backend,
                uri=args.uri, vectors_from=args.vectors_from, encode=encode,
                span_vectors=args.span_vectors)
    from re3g.retrieve import read_manifest

    m = read_manifest(out)
    where = (f" in Milvus at {m['milvus']['uri']} (alias {m['milvus']['alias']})"
             if "milvus" in m else "")
    print(f"built {out}: {m['corpus']['n_documents']} documents, {m['n_passages']} passages "
          f"(mean {m['mean_passage_words']} words){where} in {time.perf_counter() - t0:.1f} s")
    return 0
