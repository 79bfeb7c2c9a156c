"""Write evaluation reports: report.json (machine-readable) and report.md (for people)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_json(path: Path, obj: Any) -> None:
    write_atomic(path, json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def write_jsonl(path: Path, rows: Any) -> None:
    """``rows`` (dicts) to ``path`` as JSON lines, in one atomic step (:func:`write_atomic`)."""
    write_atomic(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def _table(rows: dict[str, dict[str, float]], title: str) -> list[str]:
    if not rows:
        return []
    cols = list(next(iter(rows.values())).keys())
    lines = [f"## {title}", "", "| system | " + " | ".join(cols) + " |",
             "|---|" + "---:|" * len(cols)]
    for name, metrics in rows.items():
        lines.append(f"| {name} | " + " | ".join(f"{metrics.get(c, 0.0):.2f}" for c in cols)
                     + " |")
    return [*lines, ""]


def render_markdown(report: dict[str, Any]) -> str:
    """A readable summary of a report.json dict."""
    lines = ["# re3g evaluation report", ""]
    info = [("documents file", report.get("docs")), ("dialogues file", report.get("dialogues")),
            ("examples", report.get("n_examples")), ("passages", report.get("n_passages")),
            ("mean passage words", report.get("mean_passage_words")),
            ("index", report.get("index"))]
    lines += [f"- {k}: {v}" for k, v in info if v is not None]
    lines.append("")
    lines += _table(report.get("retrieval", {}), "Retrieval (percent; a hit overlaps a gold span)")
    grounding = {k: v for k, v in (("pipeline", report.get("grounding")),
                                   ("gold passage given", report.get("grounding_gold_passage")))
                 if v}
    lines += _table(grounding, "Grounding (official DialDoc normalisation)")
    systems = report.get("response_systems") or (
        {"pipeline": report["response"]} if report.get("response") else {})
    lines += _table(systems, "Response (turns with a reply)")
    block = report.get("answerability")
    if block:
        lines += ["## Answerability (percent of turns)", "",
                  f"- decision: {block.get('decision')} (threshold {block.get('threshold')})",
                  f"- answerable turns answered: {block['answered']} "
                  f"(right: answered on a reference span: {block['right']}) "
                  f"of {block['n_answerable']}",
                  f"- unanswerable turns refused: {block['refused_unanswerable']} "
                  f"of {block['n_unanswerable']}"]
        lines += [f"  - {kind}: {v}" for kind, v in block.get("refused_by_kind", {}).items()]
        lines += [f"- AUROC of Answer.confidence: {block['AUROC']}"]
        if "confident_wrong" in block:
            lines += [f"- answered without a caution (not tentative): right "
                      f"{block['confident_right']}, wrong {block['confident_wrong']} "
                      f"(of answerable turns); unanswerable turns refused or tentative: "
                      f"{block['refused_or_tentative']}"]
        if "unsure_pick" in block:
            lines += [f"- marked unsure of the sentence (runner-up shown): "
                      f"{block['unsure_pick']} of answerable turns; right or runner-up right: "
                      f"{block['right_or_runner_up']}"]
        lines.append("")
    if report.get("timings"):
        lines += ["## Time (seconds)", ""]
        lines += [f"- {k}: {v:.1f}" for k, v in report["timings"].items()]
        lines.append("")
    if report.get("failures"):
        lines += [f"## Failures ({len(report['failures'])})", ""]
        lines += [f"- {f['id']}: {f['error']}" for f in report["failures"][:50]]
        lines.append("")
    return "\n".join(lines)
