"""The response stage of ``re3g evaluate``: replies from the pipeline's evidence, scored against
the real agent responses, beside simple baselines.

Adds to the report:

- ``response``: ``{"F1", "SacreBLEU", "ROUGE-L"}`` of the first chosen generator (the pipeline);
- ``response_systems``: one row per system, side by side:
  ``bm25 top passage`` (BM25's first passage as the reply, no rerank, no extraction, the
  extractive generator's edits), ``extracted span (copy)`` (the top evidence span as is),
  ``pipeline: <generator>`` for each generator asked for, and ``gold span (oracle)`` (the
  reference grounding span copied: an upper bound of extractive replies, not a system);
- ``response_info``: counts, the extractor and reranker used, where the evidence came from,
  and ``abstain_rate`` (the share of turns where the interactive pipeline's confidence is
  below its threshold; batch replies are produced for every turn regardless);
- ``failures``: ``{"id", "stage", "error"}`` per failed example (the batch goes on).

Writes ``OUT/predictions_response.json`` (shared-task format ``[{"id", "utterance"}]``, first
generator). Evidence and replies are cached line by line under ``OUT/cache/`` (keyed by a
hash of the settings), so an interrupted run resumes where it stopped.

Options (``EvalContext.options``): ``generator`` ("extractive", or a comma-separated list such
as "extractive,llm"), ``generator_options`` (``{name: {make_generator options}}``),
``config`` (a re3g.toml whose rerank / extract / generator settings are used), ``rerank``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from re3g.evaluate.records import LineCache, code_stamp, failure_record
from re3g.rank import Ranking
from re3g.types import Evidence, Example, Hit, Passage

MAX_CONSECUTIVE_FAILURES = 5  # a backend failing this often in a row is given up for the run


def _sig(*parts: Any) -> str:
    return hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:10]


def _grounding_outputs(ctx: Any) -> dict[str, dict[str, Any]] | None:
    """Evidence the grounding stage left in the context (``ctx.options["grounding_outputs"]``),
    when it did: ``{id: {"evidence": [Evidence], "ranking": Ranking}}``."""
    return ctx.options.get("grounding_outputs") or None


def _select_evidence(ctx: Any, report: dict[str, Any], bot: Any, items: Sequence[int],
                     failures: list[dict[str, str]], generator: str = "extractive"
                     ) -> tuple[dict[str, dict[str, Any]], str]:
    """Reranked hits and evidence per example: from the grounding stage when it left them,
    else computed (where ``ctx.turns`` runs per-turn work, by the pipeline of ``generator``)
    and cached."""
    from re3g.evaluate.turns import TurnFailure

    reused = _grounding_outputs(ctx)
    examples: list[Example] = ctx.examples
    if reused is not None and all(examples[i].id in reused for i in items):
        out = {}
        for i in items:
            rec = reused[examples[i].id]
            out[examples[i].id] = {"evidence": rec["evidence"], "ranking": rec["ranking"]}
        return out, "grounding stage"

    by_pid: dict[str, Passage] = {h.passage.pid: h.passage
                                  for run in ctx.runs.get("hybrid", []) for h in run}
    manifest_sha = _index_sha(report)
    kind = bot.extractor_kind
    sig = _sig(manifest_sha, kind, bot.config.extractor, bot.reranker is not None,
               bot.config.reranker, bot.config.k, bot.config.rerank_k, bot.config.top_n,
               bot.ranking_config.document_weight, bot.ranking_config.current_weight,
               bot.ranking_config.document_margin, bot.config.cross, bot.config.cross_model,
               _model_stamp(bot.extractor) if kind == "extractor" else "",
               _model_stamp(bot.reranker), _model_stamp(bot.cross_reranker), code_stamp())
    cache = LineCache(ctx.out / "cache" / f"response_evidence-{sig}.jsonl")
    out: dict[str, dict[str, Any]] = {}
    try:
        todo = []
        for i in items:
            ex = examples[i]
            rec = cache.get(ex.id)
            if rec is not None and all(pid in by_pid for pid, _ in rec["hits"]):
                hits = [Hit(by_pid[pid], s, r, "cache")
                        for r, (pid, s) in enumerate(rec["hits"], 1)]
                out[ex.id] = {"evidence": [Evidence(**e) for e in rec["evidence"]],
                              "ranking": Ranking(hits, rec["top_score"], rec["runner_up"],
                                                 rec["cross_logits"])}
            else:
                todo.append(i)
        fresh = ctx.turns.map("evidence", [(generator, examples[i],
                                            list(ctx.runs["hybrid"][i][: bot.config.k]))
                                           for i in todo],
                              [examples[i].dial_id for i in todo], desc="rerank+extract")
        for i, got in zip(todo, fresh, strict=True):
            ex = examples[i]
            if isinstance(got, TurnFailure):  # recorded, the batch goes on
                failures.append(failure_record(ex.id, "extract", got.exception()))
                out[ex.id] = {"evidence": [], "ranking": None}
                continue
            ev, ranking = got["evidence"], got["ranking"]
            out[ex.id] = {"evidence": ev, "ranking": ranking}
            cache.put({"id": ex.id,
                       "hits": [[h.passage.pid, h.score] for h in ranking.hits[:10]],
                       "evidence": [dataclasses.asdict(e) for e in ev],
                       "top_score": ranking.top_score, "runner_up": ranking.runner_up,
                       "cross_logits": ranking.cross_logits})
    finally:
        cache.close()
    out = {examples[i].id: out[examples[i].id] for i in items}
    return out, f"computed here ({kind})"


def _confidence(bot: Any, example: Example, rec: dict[str, Any]) -> float:
    """The interactive pipeline's confidence for one turn (``Re3G.decide``); 0 where the
    turn failed."""
    if rec["ranking"] is None:
        return 0.0
    try:
        decision, _ = bot.decide(example.history, bot.build_query(example.history),
                                 rec["ranking"], rec["evidence"])
    except Exception:  # noqa: BLE001 - a statistic, not a reason to fail the run
        return 0.0
    return decision.confidence


def _index_sha(report: dict[str, Any]) -> str:
    try:
        return json.loads((Path(report["index"]) / "manifest.json").read_text())["corpus"][
            "sha256"]
    except (OSError, KeyError, ValueError):
        return str(report.get("index"))


def _model_stamp(model: Any) -> str:
    """When the trained folder a loaded model came from was last written ("" for none or a
    hub model): cached evidence is reused only while every model behind it is unchanged."""
    path = getattr(model, "path", "") or ""
    if not path:
        return ""
    try:
        return f"{path}:{(Path(path) / 'manifest.json').stat().st_mtime_ns}"
    except OSError:
        return str(path)


def _run_system(name: str, items: Sequence[int], examples: Sequence[Example],
                reply: Callable[[int], str], cache: LineCache | None,
                failures: list[dict[str, str]]) -> list[str]:
    """Replies of one system for ``items`` (cached when ``cache``); failures are recorded and
    give an empty reply; a system failing MAX_CONSECUTIVE_FAILURES times in a row stops."""
    from tqdm.auto import tqdm

    out: list[str] = []
    streak = 0
    gave_up = False
    for i in tqdm(items, desc=name, unit="turn", disable=cache is None):
        ex = examples[i]
        if cache is not None and ex.id in cache:
            out.append(cache.get(ex.id)["utterance"])  # type: ignore[index]
            continue
        if gave_up:
            out.append("")
            continue
        try:
            text = reply(i)
            streak = 0
        except Exception as exc:  # noqa: BLE001 - recorded, the batch goes on
            failures.append(failure_record(ex.id, f"response:{name}", exc))
            out.append("")
            streak += 1
            if streak >= MAX_CONSECUTIVE_FAILURES:
                gave_up = True
                failures.append({"id": "*", "stage": f"response:{name}",
                                 "error": f"gave up after {streak} failures in a row; the "
                                          "remaining turns of this system have empty replies"})
            continue
        out.append(text)
        if cache is not None:
            cache.put({"id": ex.id, "utterance": text})
    return out


def _replies_ahead(ctx: Any, generator: str, first: str, items: Sequence[int],
                   selected: dict[str, dict[str, Any]], reply_spans: int, cache: LineCache
                   ) -> Callable[[int], str]:
    """Every uncached reply of ``generator`` computed where ``ctx.turns`` runs per-turn work
    (all at once), returned by a ``reply(i)`` that raises a turn's failure as it was."""
    from re3g.evaluate.turns import TurnFailure

    examples: list[Example] = ctx.examples
    todo = [i for i in items if examples[i].id not in cache]
    payloads = []
    for i in todo:
        rec = selected[examples[i].id]
        hits = rec["ranking"].hits if rec["ranking"] is not None else []
        payloads.append((generator, first, examples[i].history, rec["evidence"][:reply_spans],
                         hits))
    got = dict(zip(todo, ctx.turns.map("reply", payloads, [examples[i].dial_id for i in todo],
                                       desc=f"pipeline: {generator}"), strict=True))

    def reply(i: int) -> str:
        if isinstance(got[i], TurnFailure):
            raise got[i].exception()
        return got[i]

    return reply


def run_stage(ctx: Any, report: dict[str, Any]) -> None:
    """Add ``response``, ``response_systems``, ``response_info`` and ``failures`` to ``report``
    and write ``OUT/predictions_response.json`` (see the module doc)."""
    from re3g.data.dialdoc import grounding_text
    from re3g.evaluate.metrics import response_metrics
    from re3g.evaluate.report import write_json
    from re3g.generate.base import clean_text
    from re3g.generate.extractive import ExtractiveGenerator

    examples: list[Example] = ctx.examples
    items = [i for i, ex in enumerate(examples) if ex.response is not None]
    failures: list[dict[str, str]] = report.setdefault("failures", [])
    spec = ctx.options.get("generator") or "extractive"
    generators = [g.strip().lower() for g in str(spec).split(",") if g.strip()]
    if not items:
        report["response"] = {"F1": 0.0, "SacreBLEU": 0.0, "ROUGE-L": 0.0}
        report["response_systems"] = {}
        report["response_info"] = {"n": 0, "generators": generators}
        write_json(ctx.out / "predictions_response.json", [])
        return

    worker = ctx.local_worker()
    bot = worker.pipeline("response", generators[0])
    selected, source = _select_evidence(ctx, report, bot, items, failures, generators[0])
    refs = [examples[i].response for i in items]
    extractive = ExtractiveGenerator()
    systems: dict[str, dict[str, float]] = {}
    replies: dict[str, list[str]] = {}

    def top_bm25(i: int) -> str:
        run = ctx.runs["bm25"][i][:1]
        return extractive.generate(examples[i].history, [], run)

    def span_copy(i: int) -> str:
        ev = selected[examples[i].id]["evidence"]
        return clean_text(ev[0].text) if ev else ""

    def gold(i: int) -> str:
        return clean_text(grounding_text(examples[i], ctx.docs))

    for name, fn in (("bm25 top passage", top_bm25), ("extracted span (copy)", span_copy)):
        replies[name] = _run_system(name, items, examples, fn, None, failures)

    reply_spans = bot.config.reply_spans
    ev_sig = _sig(sorted((examples[i].id, [dataclasses.astuple(e) for e in
                                           selected[examples[i].id]["evidence"][:reply_spans]])
                         for i in items))
    first_name = ""
    for g in generators:
        name = f"pipeline: {g}"
        first_name = first_name or name
        try:
            gbot = bot if g == generators[0] else worker.pipeline("response", g)
            gen = gbot.generator
        except Exception as exc:  # noqa: BLE001 - e.g. a model that does not load
            failures.append(failure_record("*", f"response:{name}", exc))
            replies[name] = [""] * len(items)
            continue

        def make_reply(i: int, gen: Any = gen) -> str:
            rec = selected[examples[i].id]
            hits = rec["ranking"].hits if rec["ranking"] is not None else []
            return gen.generate(examples[i].history, rec["evidence"][:reply_spans], hits)

        opts_sig = _sig(g, gbot.config.generator_options, code_stamp(), ev_sig)
        cache = LineCache(ctx.out / "cache" / f"response_{g}-{opts_sig}.jsonl")
        try:
            if getattr(ctx.turns, "remote", False):  # computed there, read in order here
                make_reply = _replies_ahead(ctx, g, generators[0], items, selected,
                                            reply_spans, cache)
            replies[name] = _run_system(name, items, examples, make_reply, cache, failures)
        finally:
            cache.close()
    replies["gold span (oracle)"] = _run_system("gold span (oracle)", items, examples, gold,
                                                None, failures)

    order = [first_name, *[n for n in replies if n != first_name]]
    for name in order:
        systems[name] = {k: round(v, 2) for k, v in response_metrics(replies[name], refs).items()}
    report["response"] = systems[first_name]
    report["response_systems"] = systems
    threshold = bot.min_confidence
    confs = [_confidence(bot, examples[i], selected[examples[i].id]) for i in items]
    report["response_info"] = {
        "n": len(items), "generators": generators, "evidence": source,
        "extractor": bot.extractor_kind,
        "reranker": "on" if bot.reranker is not None else "off",
        "reply_spans": reply_spans, "min_confidence": threshold,
        "abstain_rate": round(100 * sum(c < threshold for c in confs) / len(confs), 2),
    }
    write_json(ctx.out / "predictions_response.json",
               [{"id": examples[i].id, "utterance": u}
                for i, u in zip(items, replies[first_name], strict=True)])
