"""The Milvus collection of a re3g index: its fields, rows, self-description and checks.

One row per passage, in index order (``pos``, the primary key)::

    pos INT64 (primary)  pid  doc_id  title  section  domain  text   (VARCHAR)
    start_char  end_char (INT64)   span_ids (JSON list of doc2dial span ids)
    terms   VARCHAR, analyzed: the passage's Lucene-equivalent terms (re3g.retrieve.terms)
    sparse  SPARSE_FLOAT_VECTOR, written by Milvus's BM25 Function from ``terms``
    dense   FLOAT_VECTOR, the project encoder's normalised passage vector

The collection describes itself in a small JSON record (encoder, dimension, parts, analysis,
passage count, corpus), kept as the collection property :data:`META_KEY` and as its
description (Milvus Lite keeps only the property). :func:`check_collection` compares it with
the index manifest, so a collection built with another encoder or dimension, or missing
fields, is refused by name.

>>> from re3g.types import Passage
>>> p = Passage("d1#0", "d1", "Fees", "The fee is $25.", 0, 15, ["3"], section="Cost")
>>> row = passage_row(p, 0)
>>> row["terms"], row_passage(row) == p
('fee cost fee 25', True)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from re3g.data.passages import passage_contents
from re3g.errors import IndexLoadError, Re3GError
from re3g.retrieve.terms import milvus_text
from re3g.types import Passage

META_KEY = "re3g.meta"
"""The collection property holding :func:`description`."""
ANALYSIS = "lucene-english-porter/1"
"""Version tag of :mod:`re3g.retrieve.terms`'s analysis (recorded; checked at open)."""
MAX_VARCHAR = 65_535
PASSAGE_FIELDS = ("pos", "pid", "doc_id", "title", "section", "domain", "text", "start_char",
                  "end_char", "span_ids")
"""What a search returns for each hit (everything a :class:`~re3g.types.Passage` holds)."""
_LIMITS = {"pid": 1024, "doc_id": 1024, "title": 8192, "section": 8192, "domain": 256,
           "text": MAX_VARCHAR, "terms": MAX_VARCHAR}


def passage_row(p: Passage, pos: int) -> dict[str, Any]:
    """The collection row of passage ``p`` at index position ``pos`` (without vectors); a
    Re3GError names a passage whose fields exceed Milvus's VARCHAR limits."""
    row: dict[str, Any] = {"pos": pos, "pid": p.pid, "doc_id": p.doc_id, "title": p.title,
                           "section": p.section, "domain": p.domain, "text": p.text,
                           "start_char": p.start, "end_char": p.end,
                           "span_ids": list(p.span_ids),
                           "terms": milvus_text(passage_contents(p)) or "_"}
    for field, limit in _LIMITS.items():
        if len(row[field].encode()) > limit:
            raise Re3GError(f"passage {p.pid}: field {field} has {len(row[field].encode())} "
                            f"bytes, over Milvus's limit of {limit} for this index; split the "
                            "document into smaller passages (--max-words)")
    return row


def row_passage(row: Mapping[str, Any]) -> Passage:
    """The :class:`~re3g.types.Passage` stored in a row (a search hit's entity)."""
    return Passage(row["pid"], row["doc_id"], row["title"], row["text"], int(row["start_char"]),
                   int(row["end_char"]), list(row["span_ids"]), section=row["section"],
                   domain=row["domain"])


def description(manifest: Mapping[str, Any]) -> str:
    """The collection's self-description: the JSON of what must match the manifest."""
    return json.dumps({"re3g": 1, **expected(manifest)}, sort_keys=True)


def make_schema(pymilvus: Any, manifest: Mapping[str, Any]) -> Any:
    """The collection schema for an index manifest (its parts, dimension, description)."""
    from pymilvus import DataType, Function, FunctionType

    kinds = manifest["kinds"]
    schema = pymilvus.MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False,
                                                 description=description(manifest))
    schema.add_field("pos", DataType.INT64, is_primary=True)
    for field in ("pid", "doc_id", "title", "section", "domain", "text"):
        schema.add_field(field, DataType.VARCHAR, max_length=_LIMITS[field])
    schema.add_field("start_char", DataType.INT64)
    schema.add_field("end_char", DataType.INT64)
    schema.add_field("span_ids", DataType.JSON)
    # pre-analysed terms, so "standard" (the analyzer both Lite and Milvus have) only splits them
    schema.add_field("terms", DataType.VARCHAR, max_length=MAX_VARCHAR, enable_analyzer=True,
                     analyzer_params={"type": "standard"})
    if "bm25" in kinds:
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(Function(name="bm25", function_type=FunctionType.BM25,
                                     input_field_names=["terms"],
                                     output_field_names=["sparse"]))
    if "dense" in kinds:
        schema.add_field("dense", DataType.FLOAT_VECTOR, dim=manifest["dense"]["dim"])
    return schema


DENSE_INDEXES = {"flat": ("FLAT", {}), "hnsw": ("HNSW", {"M": 16, "efConstruction": 200}),
                 "ivf": ("IVF_FLAT", None)}
"""``--faiss`` kinds mapped to Milvus index types and build parameters (IVF: 4·√n lists)."""


def dense_index(kind: str, n: int) -> tuple[str, dict[str, Any]]:
    """Milvus index type and build parameters for the dense field."""
    index_type, params = DENSE_INDEXES[kind]
    if params is None:
        params = {"nlist": max(1, min(int(4 * n ** 0.5), 65_536))}
    return index_type, dict(params)


def make_index_params(client: Any, manifest: Mapping[str, Any]) -> Any:
    """Index parameters: BM25 (SPARSE_INVERTED_INDEX, explicit k1 and b) and the dense index
    (COSINE: the vectors are normalised, so it equals FAISS's inner product).

    The build parameters travel as one JSON ``params`` entry, the wire format of pymilvus
    2.x that every Milvus server reads: pymilvus 3 sends them as separate entries, which
    Milvus Lite 3.2 ignores (it then builds BM25 with k1 1.5, b 0.75).
    """
    params = client.prepare_index_params()
    if "bm25" in manifest["kinds"]:
        bm = manifest["bm25"]
        params.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                         params={"params": {"bm25_k1": bm["k1"], "bm25_b": bm["b"]}})
    if "dense" in manifest["kinds"]:
        dm = manifest["dense"]
        params.add_index("dense", index_type=dm["index_type"], metric_type="COSINE",
                         params={"params": dm["index_params"]})
    return params


def expected(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """What the collection must describe itself as, from an index manifest."""
    out: dict[str, Any] = {"kinds": list(manifest["kinds"]), "n_passages": manifest["n_passages"],
                           "corpus": manifest["corpus"]["sha256"]}
    if "bm25" in manifest["kinds"]:
        out["analysis"] = manifest["bm25"]["analysis"]
        out["k1"], out["b"] = manifest["bm25"]["k1"], manifest["bm25"]["b"]
    if "dense" in manifest["kinds"]:
        out["model"], out["dim"] = manifest["dense"]["model"], manifest["dense"]["dim"]
    return out


def check_collection(info: Mapping[str, Any], manifest: Mapping[str, Any], where: str) -> None:
    """Compare a collection (``describe_collection``) with the manifest; IndexLoadError naming
    ``where`` (URI and collection) and the first mismatch."""
    fields = {f["name"]: f for f in info.get("fields", [])}
    need = set(PASSAGE_FIELDS) | {"terms"}
    need |= {"sparse"} if "bm25" in manifest["kinds"] else set()
    need |= {"dense"} if "dense" in manifest["kinds"] else set()
    missing = sorted(need - set(fields))
    if missing:
        raise IndexLoadError(f"{where} lacks the fields {', '.join(missing)}: it was not "
                             "written by `re3g index --backend milvus`; rebuild it")
    raw = (info.get("properties") or {}).get(META_KEY) or info.get("description") or "{}"
    try:
        said = json.loads(raw)
    except json.JSONDecodeError:
        said = {}
    want = expected(manifest)
    if "dense" in manifest["kinds"]:
        dim = int(fields["dense"].get("params", {}).get("dim", -1))
        if dim != want["dim"]:
            raise IndexLoadError(f"{where} holds {dim}-d vectors, but the index's encoder "
                                 f"{want['model']!r} makes {want['dim']}-d ones; rebuild it")
    for key, value in want.items():
        if said.get(key) != value:
            raise IndexLoadError(f"{where} was built with {key} = {said.get(key)!r}, the index "
                                 f"manifest says {value!r}; rebuild it with `re3g index`")
