"""The ranking chain's settings for documents no model here was tuned on.

The chain's current-turn mix and document prior (``current_weight``, ``document_weight``,
``document_margin``; the :class:`re3g.config.Config` defaults) were chosen on doc2dial train
with synthetic topic shifts (``python -m re3g.train.select_ranking``). Users of documents that
people write change document in their own words, and there those settings keep a turn in the
previous turn's document (docs/answerability.md, Session 38, measurement P). The values chosen
on the hand-written choose sets (``python -m re3g.train.select_ranking --written``, recorded in
``models/ranking-other.json``) take their place on any corpus but the one the models were tuned
on: the same switch as the reader's and the decision's calibrations (``[answer] calibration``,
:func:`re3g.config.corpus_calibration`). A key the config sets to a value other than its default
is kept on every corpus; ``calibration = "tuned"`` keeps every default everywhere.

    >>> from re3g.config import Config
    >>> sel = {"tuned_corpus": "abc", "chosen": {"current_weight": 0.5, "document_margin": 0.15}}
    >>> ranking_for(Config(), "xyz", sel).current_weight      # another corpus
    0.5
    >>> ranking_for(Config(), "abc", sel).current_weight      # the corpus the models know
    0.3
    >>> ranking_for(Config(current_weight=0.4), "xyz", sel).current_weight   # set: kept
    0.4
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from re3g.config import Config, corpus_calibration
from re3g.errors import DataError, ModelError
from re3g.models import models_dir

OTHER_RANKING = "ranking-other.json"
"""The selection's file in ``models/``: ``tuned_corpus`` (the fingerprint of the corpus whose
defaults stay), ``chosen`` (the values for every other corpus), and how they were chosen."""
OTHER_KEYS = ("current_weight", "document_weight", "document_margin", "document_words",
              "current_sure", "current_sure_weight")
"""The ranking settings the selection for other documents chooses."""
SELECT_CMD = "python -m re3g.train.select_ranking --written"


def other_selection(path: Path | None = None) -> dict[str, Any]:
    """The selection for other documents (``models/ranking-other.json`` unless ``path``),
    checked; empty when there is none (every corpus then gets the defaults).

    >>> other_selection(Path("no-such-file.json"))
    {}
    """
    path = path or models_dir() / OTHER_RANKING
    if not path.is_file():
        return {}
    try:
        sel = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: unreadable ranking selection ({exc}); redo it with "
                         f"`{SELECT_CMD}`") from exc
    chosen = sel.get("chosen") if isinstance(sel, Mapping) else None
    if not isinstance(sel, Mapping) or not isinstance(sel.get("tuned_corpus"), str) \
            or not isinstance(chosen, Mapping):
        raise ModelError(f"{path}: keys 'tuned_corpus' (text) and 'chosen' (a table) are "
                         f"needed; redo it with `{SELECT_CMD}`")
    unknown = sorted(set(chosen) - set(OTHER_KEYS))
    if unknown:
        raise ModelError(f"{path}: key 'chosen.{unknown[0]}' is not a setting it may choose "
                         f"(known: {', '.join(OTHER_KEYS)})")
    try:
        Config(**chosen, source=str(path)).validate()
    except DataError as exc:
        raise ModelError(str(exc)) from exc
    return dict(sel)


def ranking_for(config: Config, fingerprint: str | None,
                selection: Mapping[str, Any] | None = None) -> Config:
    """``config`` with the ranking settings for a corpus (its
    :func:`re3g.retrieve.index.corpus_fingerprint`, None when unknown): unchanged on the corpus
    the selection names as ``tuned_corpus`` or without a selection, else each chosen value in
    place of a default (``selection``: :func:`other_selection`'s by default)."""
    sel = other_selection() if selection is None else selection
    if not sel:
        return config
    try:
        regime = corpus_calibration(config.calibration, fingerprint, sel.get("tuned_corpus"))
    except ValueError as exc:
        raise DataError(f"{config.source}: key 'calibration': {exc}") from exc
    if regime != "other":
        return config
    defaults = Config()
    changes = {k: v for k, v in sel["chosen"].items()
               if getattr(config, k) == getattr(defaults, k)}
    return dataclasses.replace(config, **changes) if changes else config


def other_ranking(config: Config) -> dict[str, Any]:
    """The ranking settings ``config`` gets on documents no model here was tuned on, by name.

    >>> other_ranking(Config(current_weight=0.4))["current_weight"]
    0.4
    """
    cfg = ranking_for(config, None)
    return {k: getattr(cfg, k) for k in OTHER_KEYS}
