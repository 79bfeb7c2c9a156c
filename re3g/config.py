"""The one source of truth for settings, their valid choices and their defaults.

:class:`Config` (with its typed ``[code]`` table, :class:`CodeConfig`) is read from TOML
(``tomllib``) or YAML (``yaml``) once and passed down. The valid choices (:data:`MODES`,
:data:`GENERATORS`, :data:`QUERY_ROLES`, :data:`CODE_BACKENDS`, ...) are declared here and
imported by the CLI, the app and the stages; so are defaults other modules share (a field's
default is ``Config.<field>``, e.g. ``Config.query_max_words``).

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
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from re3g.errors import DataError

# -- choices: declared here once; the CLI, the app and the stages import them -------------------
MODES = ("bm25", "dense", "hybrid")  # retrieval modes (``open_index``, ``[retrieval] mode``)
INDEX_KINDS = ("bm25", "dense")  # the parts of a built index (``build_index(kinds=...)``)
FAISS_KINDS = ("flat", "hnsw", "ivf")  # FAISS index types of the dense part
BACKENDS = ("lucene", "milvus")  # index backends: Lucene + FAISS files, or a Milvus collection
GENERATORS = ("extractive", "seq2seq", "llm", "http")  # ``[generator] name``
QUERY_ROLES = ("user", "all")  # ``[retrieval] query_roles``
CODE_BACKENDS = ("auto", "llamacpp", "transformers", "openai")  # ``[code] backend``
SWITCH_WORDS = ("auto", "true", "false", "on", "off")  # values of the rerank / cross switches
CODE_MAX_TOKENS = 512  # reply budget of the code tool when ``[code] max_tokens`` is not set
PASSAGE_MAX_WORDS = 200  # passage splitting (``re3g index --max-words``): longest passage
PASSAGE_MIN_WORDS = 12  # shorter sections are merged into the next one

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
               "document_temperature": "document_temperature",
               "document_margin": "document_margin", "document_words": "document_words",
               "current_sure": "current_sure", "current_sure_weight": "current_sure_weight",
               "title_weight": "title_weight",
               "base_weight": "base_weight", "cross": "cross",
               "cross_model": "cross_model", "cross_depth": "cross_depth",
               "cross_weight": "cross_weight"},
    "extract": {"enabled": "extract", "model": "extractor", "top_n": "top_n",
                "reply_spans": "reply_spans"},
    "answer": {"min_confidence": "min_confidence", "abstain_reply": "abstain_reply",
               "learned": "learned", "model": "answerability", "checker": "checker",
               "calibration": "calibration", "kind_check": "kind_check",
               "absent_check": "absent_check", "repeat_check": "repeat_check"},
    "generator": {"name": "generator", "options": "generator_options"},
    "code": {},  # the code tool's table, typed by CodeConfig (see Config.code)
}

CALIBRATIONS = ("auto", "tuned", "other")
"""``[answer] calibration``: the learned decision's calibration (:class:`Config`)."""
KIND_CHECKS = ("other", "all", "off")
"""``[answer] kind_check``, ``absent_check`` and ``repeat_check``: where a reply that lacks the
kind of answer asked for, a question about something no document (or not the one the reply
would quote) names, or a reply that repeats
an earlier one unsure or with nothing of what is newly asked is refused (:class:`Config`)."""


def corpus_calibration(calibration: str, fingerprint: str | None, tuned: str | None) -> str:
    """Which settings a model uses on a corpus: ``calibration`` when it forces one ("tuned",
    "other"), else ("auto") "tuned" on the corpus the model was tuned on (its ``tuned``
    fingerprint) and "other" on any other corpus or an unknown one (``fingerprint`` None).
    The one switch of the learned decision's calibrations and a reader's range settings.

    >>> corpus_calibration("auto", "abc", "abc"), corpus_calibration("auto", None, "abc")
    ('tuned', 'other')
    >>> corpus_calibration("other", "abc", "abc")
    'other'
    """
    if calibration not in CALIBRATIONS:
        raise ValueError(f"calibration must be one of {', '.join(CALIBRATIONS)}, got "
                         f"{calibration!r}")
    if calibration != "auto":
        return calibration
    return "tuned" if fingerprint is not None and fingerprint == tuned else "other"

_Bad = Callable[[str, str], DataError]  # (key, message) -> the error to raise


def _error(source: str) -> _Bad:
    return lambda key, msg: DataError(f"{source}: key {key!r}: {msg}")


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float)


def _check_pos_int(bad: _Bad, name: str, value: Any, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise bad(name, f"must be a positive integer, got {value!r}")


def _check_name(bad: _Bad, name: str, value: Any, what: str = "a folder path or model name"
                ) -> None:
    """None, or a non-empty text."""
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise bad(name, f"must be {what}, got {value!r}")


def switch_value(value: Any) -> Any:
    """true / false / "auto" (also "on" / "off", any case) as True, False or "auto"; any other
    value is returned unchanged (:meth:`Config.validate` refuses it).

    >>> switch_value("On"), switch_value("off"), switch_value("AUTO"), switch_value(True)
    (True, False, 'auto', True)
    """
    if isinstance(value, str) and value.lower() in SWITCH_WORDS:
        low = value.lower()
        return "auto" if low == "auto" else low in ("true", "on")
    return value


@dataclass(frozen=True)
class CodeConfig(Mapping[str, Any]):
    """The ``[code]`` table: the code tool's LLM (keys of :func:`re3g.llm.load_llm`) and its
    reply options. None means "not set" (the backend's default).

    - ``backend``: auto | llamacpp | transformers | openai; ``model``: GGUF path, model folder,
      hub id, alias ("default", "smollm2") or the served model name (openai);
    - ``base_url``, ``api_key``, ``timeout``: the OpenAI-compatible endpoint (openai);
    - ``n_ctx``, ``n_threads``: llama.cpp / transformers runtime options;
    - ``max_tokens``, ``temperature``: reply options; ``enabled``: the tool is offered
      (None: yes).

    It reads as a mapping of the keys that are set, as the table in the file did:

    >>> code = CodeConfig.from_dict({"backend": "openai", "model": "scoder",
    ...                              "base_url": "http://127.0.0.1:8000/v1", "max_tokens": 256})
    >>> code.get("model"), dict(code)["backend"]
    ('scoder', 'openai')
    >>> code.llm_spec()
    {'backend': 'openai', 'model': 'scoder', 'base_url': 'http://127.0.0.1:8000/v1'}
    >>> CodeConfig.from_dict({"backend": "gpu", "model": "m"}, source="re3g.toml")
    Traceback (most recent call last):
    ...
    re3g.errors.DataError: re3g.toml: key 'code.backend': must be one of auto, llamacpp, ...
    """

    backend: str | None = None
    model: str | None = None
    base_url: str | None = None
    api_key: str | None = None
    timeout: float | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    n_ctx: int | None = None
    n_threads: int | None = None
    enabled: bool | None = None

    # keys that are reply options or switches, not options of re3g.llm.load_llm
    NOT_LLM_KEYS = ("max_tokens", "temperature", "enabled")

    @classmethod
    def keys_known(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def from_dict(cls, table: Mapping[str, Any], source: str = "<code>") -> CodeConfig:
        """Build from the file's table; unknown keys and bad values raise DataError."""
        bad = _error(source)
        if isinstance(table, CodeConfig):
            return table.validate(source)
        if not isinstance(table, Mapping):
            raise bad("code", "must be a table")
        known = cls.keys_known()
        unknown = sorted(set(table) - set(known))
        if unknown:
            raise bad(f"code.{unknown[0]}", f"unknown key; known: {', '.join(sorted(known))}")
        return cls(**table).validate(source)

    def validate(self, source: str = "<code>") -> CodeConfig:
        """Check every value; raise DataError naming ``code.<key>``. Returns self."""
        bad = _error(source)
        if self.backend is not None and self.backend not in CODE_BACKENDS:
            raise bad("code.backend", f"must be one of {', '.join(CODE_BACKENDS)}, "
                                      f"got {self.backend!r}")
        for name in ("model", "base_url", "api_key"):
            _check_name(bad, f"code.{name}", getattr(self, name), "a non-empty text")
        if self.timeout is not None and (not _is_number(self.timeout) or self.timeout <= 0):
            raise bad("code.timeout", f"must be a number of seconds > 0, got {self.timeout!r}")
        if self.temperature is not None and (not _is_number(self.temperature)
                                             or self.temperature < 0):
            raise bad("code.temperature", f"must be a number >= 0, got {self.temperature!r}")
        for name in ("max_tokens", "n_ctx", "n_threads"):
            _check_pos_int(bad, f"code.{name}", getattr(self, name), allow_none=True)
        if self.enabled is not None and not isinstance(self.enabled, bool):
            raise bad("code.enabled", f"must be true or false, got {self.enabled!r}")
        return self

    def llm_spec(self) -> dict[str, Any]:
        """The keys that are set, less the reply options: what :func:`re3g.llm.load_llm`
        takes."""
        return {k: v for k, v in self.items() if k not in self.NOT_LLM_KEYS}

    # -- a read-only mapping of the keys that are set --------------------------------------------
    def __getitem__(self, key: str) -> Any:
        value = getattr(self, key, None) if key in self.keys_known() else None
        if value is None:
            raise KeyError(key)
        return value

    def __iter__(self) -> Iterator[str]:
        return (k for k in self.keys_known() if getattr(self, k) is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)


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
      ``re3g.rank``; the candidate pool always fuses that turn's own hits with the dialogue
      query's when a reranker is on), ``document_weight`` and ``document_temperature`` (bonus
      for passages of the document the earlier agent turns come from, see ``re3g.rank.prior``;
      0 turns it off), ``document_margin`` (the prior is dropped for a turn whose own best
      passage lies in another document and beats the prior's document by more than this
      reranker score; absent: never dropped), ``document_words`` (how many words of the
      latest agent turns the prior reads), ``current_sure`` and ``current_sure_weight`` (a
      turn whose own best passage scores at least ``current_sure`` gets the share
      ``current_sure_weight`` instead of ``current_weight``: it says on its own what it asks;
      absent: never); on documents no model here was tuned on,
      those six keys, when left at their defaults, take the values chosen on the written
      choose sets when a selection is in ``models/ranking-other.json`` (none is shipped;
      :mod:`re3g.rank.regime`; the ``calibration`` switch below forces either),
      ``title_weight`` (how much of the share a
      document's name has in a passage's score is taken off when the user names the document,
      so a question naming a product is not drawn to the introduction that repeats the name,
      see ``re3g.rank.names``; 0 turns it off), ``base_weight`` (share of the packaged
      encoder's own query vector in the trained reranker's, in [0, 1]: the reranker was tuned
      on doc2dial, the packaged encoder ranks other documents' opening questions better, see
      ``Reranker.blended``; 0: the reranker alone); ``cross`` ("auto": on when
      ``re3g train reranker --arch cross`` made
      ``models/cross-reranker``; true: required; false: off), ``cross_model`` (its folder or a
      hub cross-encoder), ``cross_depth`` and ``cross_weight`` (the cross-encoder rescores the
      top ``cross_depth`` reranked passages and ``cross_weight`` x its logit is added to their
      scores; default: the model's manifest, chosen on train by ``re3g.train.select_ranking``);
    - extract: ``extract`` (on/off), ``extractor`` (folder; default ``models/extractor``, and
      when none is trained the dense-encoder fallback; the name "dense-fallback" asks for that
      fallback explicitly), ``top_n`` evidence spans returned, ``reply_spans`` of them handed
      to the generator;
    - answer: ``learned`` ("auto": the learned "not in the documents" decision of
      ``re3g train answerability`` decides when ``models/answerability`` exists and was
      trained with the components in use; true: required; false: the fixed rule of
      :mod:`re3g.decide`), ``answerability`` (its folder), ``min_confidence`` (below it the
      pipeline says it could not find the answer; None: the learned model's threshold, else
      the default of the extractor in use), ``abstain_reply``, ``checker`` (the second
      reader whose "not in this passage" logit the learned decision reads; default
      ``models/checker`` when it exists; "off": none; the reader's own manifest may name the
      same folder as its judge, ``settings.judge``, which this key does not turn off),
      ``calibration`` (which of the learned decision's calibrations decides: "auto", the
      default: "tuned" on the corpus the models were trained on, "other" on any other
      documents; :meth:`re3g.decide.LearnedRule.for_corpus`), ``kind_check`` (where a turn
      that asks for an amount, a time, a duration, a frequency, a number or a judgement is
      refused when the sentence its reply would quote holds none,
      :func:`re3g.extract.answer_type.missing_kind`:
      "other", the default: under the learned decision's "other" calibration, i.e. on
      documents no model here was trained on; "all"; "off"), ``absent_check`` (where a turn
      that asks whether something is there or on offer is refused when no document names it,
      or the document its reply would quote from does not (since session 50),
      :func:`re3g.extract.asked_thing.asked_things`: the same three values, "other" by
      default since session 46, when a refused question started to stay in the history),
      ``repeat_check`` (where an answer whose quoted sentence an earlier reply of the
      conversation already gave, :func:`re3g.data.query.said_before`, is refused when it is
      tentative, below the learned decision's ``sure`` level, or the sentence holds none of
      the words the turn newly asks, :func:`re3g.data.query.adds_nothing`: the same three
      values, "other" by default since session 47, ``bench/results/gates-s47.md``);
    - generator: ``generator`` (extractive | seq2seq | llm | http) and ``generator_options``
      (keyword options of ``re3g.generate.make_generator``);
    - code: the code tool's options, a :class:`CodeConfig` (a mapping is accepted).

    Values are normalised once, when the Config is made ("on" / "off" / "auto" switches,
    generator name case, the ``[code]`` table); :meth:`validate` only checks:

    >>> cfg = Config(k=5, cross="OFF", generator="Extractive", code={"model": "default"})
    >>> cfg.cross, cfg.generator, cfg.code.model
    (False, 'extractive', 'default')
    >>> cfg.validate() is cfg
    True
    >>> Config(k=0).validate()
    Traceback (most recent call last):
    ...
    re3g.errors.DataError: defaults: key 'k': must be a positive integer, got 0
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
    # chosen on a train dev part with synthetic topic shifts (python -m
    # re3g.train.select_ranking; models/ranking-selection.json), never on validation
    current_weight: float = 0.3
    document_weight: float = 0.1
    document_temperature: float = 2.0
    document_margin: float | None = None
    document_words: int = 200
    current_sure: float | None = None
    current_sure_weight: float = 0.5
    # chosen together on the train dev part and the development set (python -m
    # re3g.train.select_names; models/names-selection.json), never on validation
    title_weight: float = 2.0
    base_weight: float = 0.25
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
    learned: bool | str = "auto"
    answerability: str | None = None
    checker: str | None = None
    calibration: str = "auto"
    kind_check: str = "other"
    absent_check: str = "other"
    repeat_check: str = "other"
    generator: str = "extractive"
    generator_options: dict[str, Any] = field(default_factory=dict)
    code: CodeConfig = field(default_factory=CodeConfig)
    source: str = "defaults"  # where the settings came from (for error messages)

    # -- normalisation (once, at construction) ---------------------------------------------------
    def __post_init__(self) -> None:
        """Normalise the values that have a canonical form; leave the rest to validate()."""
        self.rerank = switch_value(self.rerank)
        self.cross = switch_value(self.cross)
        self.learned = switch_value(self.learned)
        if _is_number(self.min_confidence) and 0 <= self.min_confidence <= 1:
            self.min_confidence = float(self.min_confidence)
        if isinstance(self.generator, str) and self.generator.lower() in GENERATORS:
            self.generator = self.generator.lower()
        if isinstance(self.generator_options, Mapping):
            self.generator_options = dict(self.generator_options)
        if (isinstance(self.code, Mapping) and not isinstance(self.code, CodeConfig)
                and set(self.code) <= set(CodeConfig.keys_known())):
            self.code = CodeConfig(**self.code)

    # -- validation (pure) -----------------------------------------------------------------------
    def _bad(self, key: str, msg: str) -> DataError:
        return _error(self.source)(key, msg)

    def validate(self) -> Config:
        """Check every value; raise DataError naming the source and the key. Returns self,
        unchanged."""
        bad = self._bad
        if not isinstance(self.index, str) or not self.index.strip():
            raise bad("index", f"must be a folder path or index name, got {self.index!r}")
        if self.mode not in MODES:
            raise bad("mode", f"must be one of {', '.join(MODES)}, got {self.mode!r}")
        _check_pos_int(bad, "k", self.k)
        if self.k > 1000:
            raise bad("k", f"must be at most 1000, got {self.k}")
        _check_pos_int(bad, "query_max_words", self.query_max_words)
        if self.query_roles not in QUERY_ROLES:
            raise bad("query_roles", f'must be "user" or "all", got {self.query_roles!r}')
        _check_pos_int(bad, "max_turn_chars", self.max_turn_chars)
        _check_pos_int(bad, "rerank_k", self.rerank_k, allow_none=True)
        if not _is_number(self.current_weight) or not 0.0 <= self.current_weight <= 1.0:
            raise bad("current_weight", f"must be a number in [0, 1], got "
                                        f"{self.current_weight!r}")
        if not _is_number(self.document_weight) or self.document_weight < 0:
            raise bad("document_weight", f"must be a number >= 0, got {self.document_weight!r}")
        if not _is_number(self.document_temperature) or self.document_temperature <= 0:
            raise bad("document_temperature",
                      f"must be a number > 0, got {self.document_temperature!r}")
        if isinstance(self.document_words, bool) or not isinstance(self.document_words, int) \
                or self.document_words < 1:
            raise bad("document_words", f"must be a whole number >= 1, got "
                                        f"{self.document_words!r}")
        if self.current_sure is not None and not _is_number(self.current_sure):
            raise bad("current_sure", f"must be a number (or absent), got {self.current_sure!r}")
        if not _is_number(self.current_sure_weight) or not 0.0 <= self.current_sure_weight <= 1.0:
            raise bad("current_sure_weight", f"must be a number in [0, 1], got "
                                             f"{self.current_sure_weight!r}")
        if self.document_margin is not None and (not _is_number(self.document_margin)
                                                 or self.document_margin < 0):
            raise bad("document_margin",
                      f"must be a number >= 0 (or absent: never dropped), got "
                      f"{self.document_margin!r}")
        if not _is_number(self.title_weight) or self.title_weight < 0:
            raise bad("title_weight", f"must be a number >= 0, got {self.title_weight!r}")
        if not _is_number(self.base_weight) or not 0.0 <= self.base_weight <= 1.0:
            raise bad("base_weight", f"must be a number in [0, 1], got {self.base_weight!r}")
        _check_pos_int(bad, "top_n", self.top_n)
        _check_pos_int(bad, "reply_spans", self.reply_spans)
        if self.docs is not None and not isinstance(self.docs, str):
            raise bad("docs", f"must be a file path, got {self.docs!r}")
        for name in ("rerank", "cross", "learned"):
            if getattr(self, name) not in (True, False, "auto"):
                raise bad(name, f'must be true, false or "auto", got {getattr(self, name)!r}')
        if self.cross is True and self.rerank is False:
            raise bad("cross", "the cross-encoder rescores the reranker's top passages: "
                               "it needs [rerank] enabled = true or \"auto\"")
        _check_pos_int(bad, "cross_depth", self.cross_depth, allow_none=True)
        if self.cross_weight is not None and (not _is_number(self.cross_weight)
                                              or self.cross_weight < 0):
            raise bad("cross_weight", f"must be a number >= 0, got {self.cross_weight!r}")
        if not isinstance(self.extract, bool):
            raise bad("extract", f"must be true or false, got {self.extract!r}")
        for name in ("reranker", "extractor", "cross_model", "answerability", "checker"):
            _check_name(bad, name, getattr(self, name))
        if self.min_confidence is not None and (not _is_number(self.min_confidence)
                                                or not 0 <= self.min_confidence <= 1):
            raise bad("min_confidence",
                      f"must be a number in [0, 1], got {self.min_confidence!r}")
        if self.calibration not in CALIBRATIONS:
            raise bad("calibration", f"must be one of {', '.join(CALIBRATIONS)}, got "
                                     f"{self.calibration!r}")
        for check in ("kind_check", "absent_check", "repeat_check"):
            if getattr(self, check) not in KIND_CHECKS:
                raise bad(check, f"must be one of {', '.join(KIND_CHECKS)}, got "
                                 f"{getattr(self, check)!r}")
        if not isinstance(self.abstain_reply, str) or not self.abstain_reply.strip():
            raise bad("abstain_reply", "must be a non-empty text")
        if self.generator not in GENERATORS:
            raise bad("generator",
                      f"must be one of {', '.join(GENERATORS)}, got {self.generator!r}")
        if not isinstance(self.generator_options, Mapping):
            raise bad("generator_options", "must be a table of generator options")
        if self.generator == "http" and not self.generator_options.get("base_url"):
            raise bad("generator.base_url",
                      "the http generator needs base_url = \"http://host:port/v1\"")
        if self.generator == "seq2seq" and not self.generator_options.get("model"):
            raise bad("generator.model", "the seq2seq generator needs model = <folder or hub id>")
        CodeConfig.from_dict(self.code, self.source)
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
        """Every setting by field name (``code``: the keys that are set, as in the file).

        >>> Config(code={"model": "default"}).as_dict()["code"]
        {'model': 'default'}
        """
        out = {k: v for k, v in dataclasses.asdict(self).items() if k != "source"}
        out["code"] = dict(self.code)
        return out


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
