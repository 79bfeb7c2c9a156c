"""Pipeline configuration: one dataclass, read from TOML (``tomllib``) or YAML (``yaml``).

Every key has a default that works offline, so ``Config()`` alone is a working setup over the
sample index (``make setup`` builds ``indexes/sample``). A file groups keys in sections; see the
commented ``re3g.toml`` at the project root::

    [retrieval]
    index = "indexes/doc2dial"
    mode = "hybrid"
    k = 20

    [generator]
    name = "extractive"

    >>> cfg = Config.from_dict({"retrieval": {"k": 5}, "generator": {"name": "extractive"}})
    >>> cfg.k, cfg.mode, cfg.generator
    (5, 'hybrid', 'extractive')

Unknown keys and bad values raise :class:`re3g.errors.DataError` naming the file and the key.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from re3g.errors import DataError

MODES = ("bm25", "dense", "hybrid")
GENERATORS = ("extractive", "seq2seq", "llm", "http")
ABSTAIN_REPLY = (
    "I could not find this in the documents. Could you rephrase the question, or tell me "
    "which document or topic it is about?"
)

# File layout: section -> {key in the file: Config field}. Top-level keys may also name a
# Config field directly (``k = 5`` is the same as ``[retrieval] k = 5``).
SECTIONS: dict[str, dict[str, str]] = {
    "retrieval": {"index": "index", "mode": "mode", "k": "k", "docs": "docs",
                  "query_max_words": "query_max_words", "query_roles": "query_roles",
                  "max_turn_chars": "max_turn_chars"},
    "rerank": {"enabled": "rerank", "model": "reranker", "k": "rerank_k",
               "current_weight": "current_weight", "document_weight": "document_weight",
               "document_temperature": "document_temperature", "cross": "cross",
               "cross_model": "cross_model", "cross_depth": "cross_depth",
               "cross_weight": "cross_weight"},
    "extract": {"enabled": "extract", "model": "extractor", "top_n": "top_n",
                "reply_spans": "reply_spans"},
    "answer": {"min_confidence": "min_confidence", "abstain_reply": "abstain_reply"},
    "generator": {"name": "generator", "options": "generator_options"},
    "code": {},  # free-form table handed to the code tool (see Config.code)
}
CODE_KEYS = {"backend", "model", "base_url", "api_key", "timeout", "max_tokens", "temperature",
             "n_ctx", "n_threads", "enabled"}


@dataclass
class Config:
    """Settings of a :class:`re3g.pipeline.Re3G` pipeline.

    - retrieval: ``index`` (folder, or a name under ``indexes/``), ``mode`` (bm25 | dense |
      hybrid), ``k`` passages retrieved, ``docs`` (the documents file the index was built from,
      for span offsets; default: the index manifest's source when it can be found),
      ``query_max_words`` (query length cap), ``query_roles`` ("user": the query holds the
      user's turns only, so the system's own earlier replies cannot pull retrieval back to the
      passage it already quoted; "all": every turn, the MultiDoc2Dial convention),
      ``max_turn_chars`` (longer turns are cut);
    - rerank: ``rerank`` ("auto": on when the trained model ``models/reranker`` exists;
      true: required; false: off), ``reranker`` (folder or cross-encoder name), ``rerank_k``,
      ``current_weight`` (share of the rerank score from the current user turn alone, see
      ``re3g.rerank.rerank_dialogue``; the candidate pool always fuses that turn's own hits
      with the dialogue query's when a reranker is on), ``document_weight`` and
      ``document_temperature`` (bonus for passages of the document the earlier agent turns
      come from, see ``re3g.focus``; 0 turns it off); ``cross`` ("auto": on when
      ``re3g train reranker --arch cross`` made ``models/cross-reranker``; true: required;
      false: off), ``cross_model`` (its folder or a hub cross-encoder), ``cross_depth`` and
      ``cross_weight`` (the cross-encoder rescores the top ``cross_depth`` reranked passages
      and ``cross_weight`` x its logit is added to their scores, see ``re3g.rerank.cascade``;
      default: the values chosen on validation, from the model's manifest);
    - extract: ``extract`` (on/off), ``extractor`` (folder; default ``models/extractor``, and
      when none is trained the dense-encoder fallback, see ``re3g.pipeline``; the name
      "dense-fallback" asks for that fallback explicitly), ``top_n``
      evidence spans returned, ``reply_spans`` of them handed to the generator;
    - answer: ``min_confidence`` (below it the pipeline says it could not find the answer;
      None: the default of the extractor in use, see ``re3g.pipeline.DEFAULT_MIN_CONFIDENCE``),
      ``abstain_reply``;
    - generator: ``generator`` (extractive | seq2seq | llm | http) and ``generator_options``
      (keyword options of ``re3g.generate.make_generator``);
    - code: options of the code tool (``backend``, ``model``, ``base_url``, ...).

    >>> Config(k=5).validate().k
    5
    """

    index: str = "indexes/sample"
    mode: str = "hybrid"
    k: int = 20
    docs: str | None = None
    query_max_words: int = 96
    query_roles: str = "user"
    max_turn_chars: int = 20_000
    rerank: bool | str = "auto"
    reranker: str | None = None
    rerank_k: int | None = None
    current_weight: float = 0.3
    document_weight: float = 0.2
    document_temperature: float = 3.0
    cross: bool | str = "auto"
    cross_model: str | None = None
    cross_depth: int | None = None
    cross_weight: float | None = None
    extract: bool = True
    extractor: str | None = None
    top_n: int = 3
    reply_spans: int = 1
    min_confidence: float | None = None
    abstain_reply: str = ABSTAIN_REPLY
    generator: str = "extractive"
    generator_options: dict[str, Any] = field(default_factory=dict)
    code: dict[str, Any] = field(default_factory=dict)
    source: str = "defaults"  # where the settings came from (for error messages)

    # -- validation ----------------------------------------------------------------------------
    def _bad(self, key: str, msg: str) -> DataError:
        return DataError(f"{self.source}: key {key!r}: {msg}")

    def _switch(self, key: str, value: Any) -> bool | str:
        """true / false / "auto" (also "on" / "off") as True, False or "auto"."""
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("auto", "true", "false", "on", "off"):
            low = value.lower()
            return "auto" if low == "auto" else low in ("true", "on")
        raise self._bad(key, f'must be true, false or "auto", got {value!r}')

    def validate(self) -> Config:
        """Check every value; raise DataError naming the source and the key. Returns self."""
        def pos_int(name: str, value: Any, allow_none: bool = False) -> None:
            if value is None and allow_none:
                return
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise self._bad(name, f"must be a positive integer, got {value!r}")

        if not isinstance(self.index, str) or not self.index.strip():
            raise self._bad("index", f"must be a folder path or index name, got {self.index!r}")
        if self.mode not in MODES:
            raise self._bad("mode", f"must be one of {', '.join(MODES)}, got {self.mode!r}")
        pos_int("k", self.k)
        if self.k > 1000:
            raise self._bad("k", f"must be at most 1000, got {self.k}")
        pos_int("query_max_words", self.query_max_words)
        if self.query_roles not in ("user", "all"):
            raise self._bad("query_roles", f'must be "user" or "all", got {self.query_roles!r}')
        pos_int("max_turn_chars", self.max_turn_chars)
        pos_int("rerank_k", self.rerank_k, allow_none=True)
        if (isinstance(self.current_weight, bool) or not isinstance(self.current_weight,
                                                                   int | float)
                or not 0.0 <= self.current_weight <= 1.0):
            raise self._bad("current_weight", f"must be a number in [0, 1], got "
                                              f"{self.current_weight!r}")
        for name, lo in (("document_weight", 0.0), ("document_temperature", None)):
            v = getattr(self, name)
            if (isinstance(v, bool) or not isinstance(v, int | float)
                    or (v < lo if lo is not None else v <= 0)):
                raise self._bad(name, f"must be a number {'>= 0' if lo is not None else '> 0'}"
                                      f", got {v!r}")
        pos_int("top_n", self.top_n)
        pos_int("reply_spans", self.reply_spans)
        if self.docs is not None and not isinstance(self.docs, str):
            raise self._bad("docs", f"must be a file path, got {self.docs!r}")
        self.rerank = self._switch("rerank", self.rerank)
        self.cross = self._switch("cross", self.cross)
        if self.cross is True and self.rerank is False:
            raise self._bad("cross", "the cross-encoder rescores the reranker's top passages: "
                                     "it needs [rerank] enabled = true or \"auto\"")
        pos_int("cross_depth", self.cross_depth, allow_none=True)
        if self.cross_weight is not None and (
                isinstance(self.cross_weight, bool)
                or not isinstance(self.cross_weight, int | float) or self.cross_weight < 0):
            raise self._bad("cross_weight", f"must be a number >= 0, got {self.cross_weight!r}")
        if not isinstance(self.extract, bool):
            raise self._bad("extract", f"must be true or false, got {self.extract!r}")
        for name in ("reranker", "extractor", "cross_model"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise self._bad(name, f"must be a folder path or model name, got {value!r}")
        if self.min_confidence is not None:
            if isinstance(self.min_confidence, bool) or not isinstance(
                    self.min_confidence, (int, float)) or not 0 <= self.min_confidence <= 1:
                raise self._bad("min_confidence",
                                f"must be a number in [0, 1], got {self.min_confidence!r}")
            self.min_confidence = float(self.min_confidence)
        if not isinstance(self.abstain_reply, str) or not self.abstain_reply.strip():
            raise self._bad("abstain_reply", "must be a non-empty text")
        if not isinstance(self.generator, str) or self.generator.lower() not in GENERATORS:
            raise self._bad("generator",
                            f"must be one of {', '.join(GENERATORS)}, got {self.generator!r}")
        self.generator = self.generator.lower()
        if not isinstance(self.generator_options, Mapping):
            raise self._bad("generator_options", "must be a table of generator options")
        self.generator_options = dict(self.generator_options)
        if self.generator == "http" and not self.generator_options.get("base_url"):
            raise self._bad("generator.base_url",
                            "the http generator needs base_url = \"http://host:port/v1\"")
        if self.generator == "seq2seq" and not self.generator_options.get("model"):
            raise self._bad("generator.model",
                            "the seq2seq generator needs model = <folder or hub id>")
        if not isinstance(self.code, Mapping):
            raise self._bad("code", "must be a table")
        unknown = sorted(set(self.code) - CODE_KEYS)
        if unknown:
            raise self._bad(f"code.{unknown[0]}",
                            f"unknown key; known: {', '.join(sorted(CODE_KEYS))}")
        return self

    # -- construction --------------------------------------------------------------------------
    @classmethod
    def field_names(cls) -> set[str]:
        return {f.name for f in dataclasses.fields(cls)} - {"source"}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "<dict>") -> Config:
        """Build from a nested (sections) or flat mapping; unknown keys raise DataError."""
        if not isinstance(data, Mapping):
            raise DataError(f"{source}: the top level must be a table of settings, "
                            f"got {type(data).__name__}")
        flat: dict[str, Any] = {}
        names = cls.field_names()
        for key, value in data.items():
            if key in SECTIONS and isinstance(value, Mapping):
                flat.update(_section(key, value, source))
            elif key in names:
                flat[key] = value
            else:
                raise DataError(f"{source}: unknown key {key!r}; sections: "
                                f"{', '.join(SECTIONS)}; keys: {', '.join(sorted(names))}")
        return cls(**flat, source=source).validate()

    @classmethod
    def load(cls, path: str | Path | None = None, **overrides: Any) -> Config:
        """Read ``path`` (.toml, .yaml or .yml; None: defaults), then apply ``overrides``
        (Config field names; a value of None leaves the file's value)."""
        cfg = cls() if path is None else cls.from_dict(read_file(path), source=str(path))
        return cfg.with_overrides(**overrides)

    def with_overrides(self, **overrides: Any) -> Config:
        """A copy with the given fields replaced (None values are ignored)."""
        names = self.field_names()
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise DataError(f"unknown setting {unknown[0]!r}; known: {', '.join(sorted(names))}")
        changes = {k: v for k, v in overrides.items() if v is not None}
        if not changes:
            return self.validate()
        source = self.source if self.source != "defaults" else "settings"
        return dataclasses.replace(self, **changes, source=source).validate()

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "source"}


def _section(name: str, table: Mapping[str, Any], source: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if name == "code":
        return {"code": dict(table)}
    keys = SECTIONS[name]
    for key, value in table.items():
        if name == "generator" and key == "options":
            if not isinstance(value, Mapping):
                raise DataError(f"{source}: key 'generator.options' must be a table")
            out.setdefault("generator_options", {}).update(value)
        elif key in keys:
            out[keys[key]] = value
        elif name == "generator":  # any other generator key is a make_generator option
            out.setdefault("generator_options", {})[key] = value
        else:
            raise DataError(f"{source}: unknown key {name}.{key}; known in [{name}]: "
                            f"{', '.join(keys)}")
    return out


def read_file(path: str | Path) -> dict[str, Any]:
    """Parse a TOML or YAML settings file; DataError names the file and the problem."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: no such config file")
    try:
        raw = p.read_bytes()
        text = raw.decode("utf-8")
    except OSError as exc:
        raise DataError(f"{p}: cannot read config file ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise DataError(f"{p}: config file is not UTF-8 text (byte {exc.start})") from exc
    suffix = p.suffix.lower()
    if suffix == ".toml":
        import tomllib

        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise DataError(f"{p}: invalid TOML: {exc}") from exc
    elif suffix in (".yaml", ".yml"):
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark is not None else ""
            raise DataError(f"{p}: invalid YAML{where}: "
                            f"{getattr(exc, 'problem', None) or exc}") from exc
        if data is None:
            data = {}
    else:
        raise DataError(f"{p}: unknown config format {suffix or '(no suffix)'!r}; "
                        "use .toml, .yaml or .yml")
    if not isinstance(data, dict):
        raise DataError(f"{p}: the top level must be a table of settings")
    return data
