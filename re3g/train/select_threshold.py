"""The learned decision's threshold for other documents, re-chosen on replayed conversations
(the chat's own replies in the history) of the written development sets.

    python -m re3g.train.select_threshold [--rule reference|most|shares]
        [--ceiling sure|none] [--written DOCS DIALOGUES]...
        [--model DIR] [--records DIR] [--dry-run]

``--rule most`` (session 35): the trained threshold keeps 95% of the written sets' answerable
turns answered, whether their pick is right or not. This replays the choose sets at it and
takes the lowest threshold at or above it with the most answerable turns answered right plus
unanswerable turns refused, pooled (:func:`most_right_and_refused`; each turn counts once, as
the suites' two measures do), then replays them again at that threshold for the exact figures
(a refusal changes the history the next turn reads). ``--records DIR`` keeps the two replays.
Where the chosen threshold lies above the calibration's ``sure``, ``sure`` is raised to it.

``--rule shares`` (session 52): as ``most``, but the threshold has the highest share of
answerable turns answered right plus share of unanswerable turns refused (the suites' two
measures, weighed alike however many of each kind the sets hold; :func:`best_shares`), and it
goes no higher than the calibration's ``sure``: it refuses only answers the decision already
shows as tentative, never one it is sure of. With ``--ceiling none`` (session 58) it may go
above ``sure`` to the best sum of the two shares wherever it lies; the calibration's ``sure`` is
then raised to the chosen threshold, so that no answer is shown as tentative that the decision
would refuse (a ``sure`` below the threshold, as the trainer never writes one).

``--rule reference`` (the default), when the ranking changes (the cross-encoder for other
documents, ``models/cross-reranker-other``): a better ranking also finds a more plausible
passage for a question the documents do not answer, so at the same threshold the decision
refuses fewer of them (docs/answerability.md, Sessions 31 and 33). This replays the written
development sets (default :data:`re3g.train.common.CHOOSE_SETS`; the suites, ``data/dev6`` and
``data/dev7`` are refused) as the chat holds them (:mod:`re3g.evaluate.replay`) twice: with the
doc2dial cross-encoder (the reference: ``[rerank] cross_model`` set to it) and with the
pipeline as it is. The other calibration's new threshold is the lowest confidence at or above
the trained one at which the second replay refuses, pooled, at least as many unanswerable turns
as the reference; right answers are reported for both. It is written into the answerability
manifest's ``other`` block with the ranking it was chosen on (``other.ranking``) and its record
(``other.threshold_selection``); the regression's coefficients are the trained ones.
``--records DIR`` keeps both replays' per-turn records, so ``bench/paired_replays.py`` can
compare them turn by turn (which turns the new ranking wins and loses, and whether that is more
than reshuffling).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from re3g.train import common

RULES = ("reference", "most", "shares")
"""How the threshold is re-chosen (``--rule``)."""
CEILINGS = ("sure", "none")
"""How high ``--rule shares`` may go (``--ceiling``): up to the calibration's trained ``sure``,
or as high as the best sum of shares lies."""


def refused_at(records: Sequence[dict[str, Any]], threshold: float) -> int:
    """Unanswerable turns of replay ``records`` refused at ``threshold`` (refused already, or
    a confidence below it).

    >>> refused_at([{"answerable": False, "grounded": True, "confidence": 0.3},
    ...             {"answerable": False, "grounded": False, "confidence": 0.1}], 0.35)
    2
    """
    return sum(1 for r in records if not r["answerable"]
               and (not r["grounded"] or r["confidence"] < threshold))


def right_at(records: Sequence[dict[str, Any]], threshold: float) -> int:
    """Answerable turns of replay ``records`` still answered right at ``threshold``.

    >>> right_at([{"answerable": True, "right": True, "confidence": 0.3}], 0.35)
    0
    """
    return sum(1 for r in records if r["answerable"] and r["right"]
               and r["confidence"] >= threshold)


def lowest_matching(records: Sequence[dict[str, Any]], trained: float, target: int
                    ) -> float:
    """The lowest threshold at or above ``trained`` at which ``records`` refuse at least
    ``target`` unanswerable turns: ``trained`` when they already do, else just above the
    confidence of the last unanswerable turn it takes (confidences have four decimals).

    >>> rows = [{"answerable": False, "grounded": True, "confidence": c} for c in (0.3, 0.5)]
    >>> lowest_matching(rows, 0.2, 0), lowest_matching(rows, 0.2, 1), lowest_matching(rows, 0.2, 2)
    (0.2, 0.3001, 0.5001)
    """
    need = target - refused_at(records, trained)
    if need <= 0:
        return trained
    answered = sorted(r["confidence"] for r in records
                      if not r["answerable"] and r["grounded"] and r["confidence"] >= trained)
    return min(round(answered[min(need, len(answered)) - 1] + 1e-4, 4), 1.0)


def most_right_and_refused(records: Sequence[dict[str, Any]], trained: float) -> float:
    """The lowest threshold at or above ``trained`` at which ``records`` have the most
    answerable turns answered right plus unanswerable turns refused (each turn counts once;
    confidences have four decimals, so "just above" a turn is its confidence + 0.0001).

    >>> rows = [{"answerable": False, "grounded": True, "confidence": 0.3, "right": None},
    ...         {"answerable": True, "grounded": True, "confidence": 0.35, "right": False},
    ...         {"answerable": True, "grounded": True, "confidence": 0.4, "right": True}]
    >>> most_right_and_refused(rows, 0.2)  # refusing the 0.3 turn gains one, the rest none
    0.3001
    """
    return _best_step(records, trained, 1.0,
                      lambda t: right_at(records, t) + refused_at(records, t))


def _best_step(records: Sequence[dict[str, Any]], trained: float, ceiling: float,
               score: Any) -> float:
    """The lowest threshold from ``trained`` up to ``ceiling`` with the highest ``score``,
    among those that change what ``records`` get: ``trained`` and just above each answered
    turn's confidence (confidences have four decimals, so "just above" is + 0.0001)."""
    steps = {trained} | {t for t in (min(round(r["confidence"] + 1e-4, 4), 1.0)
                                     for r in records
                                     if r["grounded"] and r["confidence"] >= trained)
                         if t <= ceiling}
    return max(sorted(steps), key=score)


def best_shares(records: Sequence[dict[str, Any]], trained: float, ceiling: float) -> float:
    """The lowest threshold from ``trained`` up to ``ceiling`` at which ``records`` have the
    highest share of answerable turns answered right plus share of unanswerable turns refused
    (the two measures the suites report, weighed alike whatever the sets' mix). The ceiling
    is the calibration's ``sure``: a threshold never refuses an answer the decision is sure
    of, only the tentative ones below it (with ``trained`` at or above it, ``trained``). The
    shares are compared as whole numbers (right x unanswerable + refused x answerable), so equal
    ones tie exactly and the lowest threshold wins.

    >>> rows = [{"answerable": False, "grounded": True, "confidence": 0.3, "right": None},
    ...         {"answerable": True, "grounded": True, "confidence": 0.32, "right": True},
    ...         {"answerable": True, "grounded": True, "confidence": 0.35, "right": True},
    ...         {"answerable": True, "grounded": True, "confidence": 0.4, "right": True}]
    >>> best_shares(rows, 0.2, 0.37)  # refusing the 0.3 turn costs no right answer
    0.3001
    >>> best_shares(rows, 0.2, 0.3)  # not up to the ceiling: the 0.3 turn stays answered
    0.2
    """
    n_answerable = max(1, sum(1 for r in records if r["answerable"]))
    n_unanswerable = max(1, sum(1 for r in records if not r["answerable"]))
    return _best_step(records, trained, ceiling, lambda t: right_at(records, t) * n_unanswerable
                      + refused_at(records, t) * n_answerable)


def main(argv: Sequence[str] | None = None) -> int:
    from re3g.models import model_path, read_model_manifest, trained
    from re3g.rank import OTHER_CROSS, Reranker, cross_settings

    p = argparse.ArgumentParser(prog="python -m re3g.train.select_threshold",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--written", nargs=2, action="append", type=Path,
                   metavar=("DOCS", "DIALOGUES"),
                   help=f"choose sets (default {common.CHOOSE_NAMES})")
    p.add_argument("--model", type=Path, default=None,
                   help="answerability model folder (default models/answerability)")
    p.add_argument("--records", type=Path, default=None, metavar="DIR",
                   help="also write both replays' per-turn records (reference.jsonl, "
                        "candidate.jsonl) into DIR, for bench/paired_replays.py")
    p.add_argument("--rule", choices=RULES, default="reference",
                   help="reference (default): refuse as many unanswerable turns as the "
                        "replays with the doc2dial cross-encoder (needs the cross-encoder for "
                        "other documents); most: the most right answers plus refusals on the "
                        "replays with the pipeline as it is; shares: the highest share of "
                        "answerable turns right plus share of unanswerable turns refused, no "
                        "higher than the calibration's 'sure'")
    p.add_argument("--ceiling", choices=CEILINGS, default="sure",
                   help="with --rule shares: how high the threshold may go: up to the "
                        "calibration's trained 'sure' (default), or none (the best sum of "
                        "shares wherever it lies; 'sure' is then raised to the threshold)")
    p.add_argument("--dry-run", action="store_true",
                   help="report, write nothing into the model")
    args = p.parse_args(argv)
    if args.ceiling != "sure" and args.rule != "shares":
        p.error(f"--ceiling {args.ceiling} is read by --rule shares only (not --rule {args.rule})")
    t0 = time.time()
    sets = common.checked_sets(args.written, common.CHOOSE_SETS,
                               "choose the decision's threshold for other documents")
    if args.records:  # a bad folder fails now, not after the replays
        try:
            args.records.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise SystemExit(f"--records {args.records}: cannot write there ({e})") from None
    if args.rule in ("most", "shares"):
        return choose_most(args, sets, t0)
    if not trained(OTHER_CROSS):
        raise SystemExit(f"no cross-encoder for other documents at {model_path(OTHER_CROSS)}: "
                         "train one with `re3g train cross-other` first")
    mpath, manifest, other, trained_threshold = read_other(args.model)
    decision = {"answerability": str(mpath.parent), "min_confidence": trained_threshold}
    reference = common.replay_sets(sets, cross_model=str(model_path("cross-reranker")), **decision)
    candidate = common.replay_sets(sets, **decision)
    target = refused_at(reference, trained_threshold)
    chosen = lowest_matching(candidate, trained_threshold, target)
    # the cascade the pipeline resolves from the model's manifest (no weights loaded)
    depth, weight = cross_settings(Reranker("cross-encoder", None, read_model_manifest(
        model_path(OTHER_CROSS), "reranker", "re3g train cross-other")))
    other["ranking"] = {**manifest.get("ranking", {}), "cross_depth": depth,
                        "cross_weight": weight}
    report = {
        "rule": "the lowest threshold at or above the trained one at which the replays with "
                "the cross-encoder for other documents refuse, pooled, at least as many "
                "unanswerable turns as with the doc2dial cross-encoder",
        "trained_threshold": trained_threshold, "threshold": chosen,
        "reference": {"right": right_at(reference, trained_threshold), "refused": target},
        "at_trained": counts(candidate, trained_threshold),
        "chosen": counts(candidate, chosen)}
    return finish(args, sets, t0, mpath, manifest, report, reference, candidate, "")


def read_other(folder: Path | None) -> tuple[Path, dict[str, Any], dict[str, Any], float]:
    """(manifest path, manifest, its ``other`` block, the other calibration's trained
    threshold: the one before any earlier selection) of the answerability model ``folder``."""
    from re3g.models import model_path

    mpath = (folder or model_path("answerability")) / "manifest.json"
    if not mpath.is_file():
        raise SystemExit(f"{mpath}: no answerability model here (train one with `re3g train "
                         "answerability`)")
    try:
        manifest = json.loads(mpath.read_text())
        other = manifest.get("other")
        if not other:
            raise SystemExit(f"{mpath}: no 'other' calibration to re-choose the threshold of")
        chosen = other.get("threshold_selection") or {}
        return mpath, manifest, other, float(chosen.get("trained_threshold",
                                                        other["threshold"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise SystemExit(f"{mpath}: not a readable answerability manifest with an 'other' "
                         f"threshold ({type(e).__name__}: {e})") from None


def choose_most(args: argparse.Namespace, sets: Sequence[tuple[Path, Path]], t0: float) -> int:
    """``--rule most`` / ``shares``: replay the choose sets at the trained threshold, take the
    threshold with the most right answers plus refusals on those records
    (:func:`most_right_and_refused`) or the highest sum of the two shares up to the
    calibration's ``sure`` (:func:`best_shares`), and replay them again at it for the exact
    figures (a refusal changes the history the next turn reads)."""
    from re3g.models import trained
    from re3g.rank import OTHER_CROSS

    mpath, manifest, other, trained_threshold = read_other(args.model)
    decision = {"answerability": str(mpath.parent)}
    at_trained = common.replay_sets(sets, min_confidence=trained_threshold, **decision)
    trained_sure = trained_sure_of(other)
    if args.rule == "shares":
        ceiling = trained_sure if args.ceiling == "sure" else 1.0
        chosen = best_shares(at_trained, trained_threshold, ceiling)
        bound = (f"up to the calibration's 'sure' ({ceiling})" if args.ceiling == "sure"
                 else "with no ceiling")
        rule = (f"the lowest threshold from the trained one {bound} with the highest share of "
                "answerable turns answered right plus share of unanswerable turns refused, "
                "pooled, on replays at the trained threshold; 'chosen' is a second replay at it")
    else:
        chosen = most_right_and_refused(at_trained, trained_threshold)
        rule = ("the lowest threshold at or above the trained one with the most answerable "
                "turns answered right plus unanswerable turns refused, pooled, on replays at "
                "the trained threshold; 'chosen' is a second replay at it")
    replayed = common.replay_sets(sets, min_confidence=chosen, **decision)
    report = {
        "rule": rule,
        "trained_threshold": trained_threshold, "threshold": chosen,
        "trained_sure": trained_sure, "sure": max(trained_sure, chosen),
        "at_trained": counts(at_trained, trained_threshold),
        "chosen": counts(replayed, chosen),
        "cross_other": trained(OTHER_CROSS)}  # the ranking replayed: that model when trained
    flag = f" --rule {args.rule}" + (" --ceiling none" if args.rule == "shares"
                                     and args.ceiling == "none" else "")
    return finish(args, sets, t0, mpath, manifest, report, at_trained, replayed, flag)


def trained_sure_of(other: dict[str, Any]) -> float:
    """The other calibration's ``sure`` as the trainer wrote it (an earlier selection with no
    ceiling may have raised the manifest's; its record keeps the trained one).

    >>> trained_sure_of({"sure": 0.5, "threshold_selection": {"trained_sure": 0.38}})
    0.38
    >>> trained_sure_of({"sure": 0.4})
    0.4
    """
    chosen = other.get("threshold_selection") or {}
    return float(chosen.get("trained_sure", other.get("sure", 1.0)))


def counts(records: Sequence[dict[str, Any]], threshold: float) -> dict[str, int]:
    """Right answers and refusals of replay ``records`` at ``threshold``.

    >>> counts([{"answerable": False, "grounded": True, "confidence": 0.3}], 0.35)
    {'right': 0, 'refused': 1}
    """
    return {"right": right_at(records, threshold), "refused": refused_at(records, threshold)}


def finish(args: argparse.Namespace, sets: Sequence[tuple[Path, Path]], t0: float,
           mpath: Path, manifest: dict[str, Any], report: dict[str, Any],
           reference: list[dict[str, Any]], candidate: list[dict[str, Any]], flag: str) -> int:
    """What both rules do with their choice: keep the two replays (``--records``), complete
    and print the report, and (unless ``--dry-run``) write the threshold and its record into
    the manifest's ``other`` block."""
    from re3g.evaluate.report import write_atomic, write_jsonl

    if args.records:
        for name, records in (("reference", reference), ("candidate", candidate)):
            write_jsonl(args.records / f"{name}.jsonl", records)
    report.update({
        "n_answerable": sum(r["answerable"] for r in candidate),
        "n_unanswerable": sum(not r["answerable"] for r in candidate),
        "where": "written sets " + ", ".join(str(d) for d, _ in sets) + ", replayed with "
                 "the bot's own replies; never doc2dial, never validation, never a held-out "
                 "set",
        "command": " ".join([f"python -m re3g.train.select_threshold{flag}"]
                            + [a for d, f in sets for a in ("--written", str(d), str(f))]),
        "seconds": round(time.time() - t0, 1)})
    print(json.dumps(report, indent=2))
    if not args.dry_run:
        other = manifest["other"]
        other["threshold"] = report["threshold"]
        if "sure" in report:  # never below the threshold (--ceiling none may go above it)
            other["sure"] = report["sure"]
        other["threshold_selection"] = report
        write_atomic(mpath, json.dumps(manifest, indent=2) + "\n")
        print(f"wrote the other calibration's threshold {report['threshold']} into {mpath}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
