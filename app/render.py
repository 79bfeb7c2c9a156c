"""What the page shows of documents: the evidence panel's HTML (passages with the extracted
span in <mark>, scores, timings) and chat replies made safe for the Markdown of the chat.

Every piece of document text is escaped: uploaded documents are untrusted input. The evidence
panel is HTML, so its text goes through :func:`html.escape`; chat messages are rendered as
Markdown by Gradio, so a reply quoting a document goes through :func:`escape_markdown`, which
leaves no HTML tag, image, link, autolink, heading, list, table or formula for the browser to
build.
"""

from __future__ import annotations

import re
from html import escape

from re3g.generate.refusal import check_refused
from re3g.types import Answer, Evidence, Hit

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]|~$#])")
_LINE_START = re.compile(r"^([ \t]*)([-+=]|\d+[.)])", re.MULTILINE)
_AUTOLINK = re.compile(r"(?i)(://|www\.|@)")


def escape_markdown(text: str) -> str:
    r"""``text`` as Markdown that renders as exactly that text, with no element built from it.

    HTML is written as entities (``<img>`` shows as text), Markdown punctuation is
    backslash-escaped (no links, images, emphasis, code, tables or ``$$`` formulas), line
    starts that would make headings or lists are escaped, and URLs, ``www.`` names and e-mail
    addresses are broken so they are not turned into links.

    >>> print(escape_markdown('<img src=x onerror=alert(1)> ![i](http://x/y.png) [a](b)'))
    &lt;img src=x onerror=alert(1)&gt; !\[i\](http\://x/y.png) \[a\](b)
    >>> print(escape_markdown("- item\n1. first\nA day pass costs 8 dollars."))
    \- item
    1\. first
    A day pass costs 8 dollars.
    """
    text = _MD_SPECIAL.sub(r"\\\1", str(text))
    text = _LINE_START.sub(lambda m: m.group(1) + m.group(2)[:-1] + "\\" + m.group(2)[-1],
                           text)
    text = _AUTOLINK.sub(lambda m: m.group(1)[:3] + "\\." if m.group(1).lower() == "www."
                         else "\\" + m.group(1), text)
    return escape(text, quote=False)


STAGE_LABELS = {
    "query": "query building", "retrieve": "retrieval", "rerank": "reranking",
    "extract": "span extraction", "generate": "generation", "total": "total",
}


def highlight(passage_text: str, span_text: str, offset: int | None = None) -> str:
    """Escape ``passage_text`` and wrap ``span_text`` (found in it) in <mark>.

    ``offset`` (span start relative to the passage) is used when the span text cannot be found
    verbatim, e.g. because of whitespace differences.

    >>> highlight("Fees are <5>. Pay online.", "Pay online.")
    'Fees are &lt;5&gt;. <mark>Pay online.</mark>'
    """
    return highlight_spans(passage_text, [(span_text, offset, "")])


def _locate(passage_text: str, span_text: str, offset: int | None) -> tuple[int, int] | None:
    """Where ``span_text`` sits in ``passage_text`` (see :func:`highlight`), or None."""
    needle = span_text.strip()
    pos = passage_text.find(needle) if needle else -1
    if pos < 0 and needle:  # same words, other whitespace
        pattern = r"\s+".join(re.escape(w) for w in needle.split())
        if m := re.search(pattern, passage_text):
            pos, needle = m.start(), m.group(0)
    if pos < 0 and offset is not None and 0 <= offset < len(passage_text):
        pos = offset
        needle = passage_text[offset:offset + len(needle)]
    if pos < 0 or not needle:
        return None
    return pos, pos + len(needle)


def highlight_spans(passage_text: str, spans: list[tuple[str, int | None, str]]) -> str:
    """Escape ``passage_text`` and wrap each (span text, offset, CSS class) in <mark> (a span
    that overlaps an earlier one of the list is left out).

    >>> highlight_spans("A costs 8. B costs 9.", [("B costs 9.", None, ""),
    ...                                            ("A costs 8.", None, "re3g-alt")])
    '<mark class="re3g-alt">A costs 8.</mark> <mark>B costs 9.</mark>'
    """
    found: list[tuple[int, int, str]] = []
    for text, offset, cls in spans:
        at = _locate(passage_text, text, offset)
        if at and not any(a < at[1] and at[0] < b for a, b, _ in found):
            found.append((*at, cls))
    out, last = [], 0
    for a, b, cls in sorted(found):
        attr = f' class="{escape(cls)}"' if cls else ""
        out += [escape(passage_text[last:a]), f"<mark{attr}>", escape(passage_text[a:b]),
                "</mark>"]
        last = b
    return "".join(out) + escape(passage_text[last:])


def _evidence_for(hit: Hit, evidence: list[Evidence]) -> list[Evidence]:
    p = hit.passage
    out = []
    for ev in evidence:
        if ev.passage_id and ev.passage_id == p.pid or (
            not ev.passage_id and ev.doc_id == p.doc_id and p.start <= ev.start < p.end
        ):
            out.append(ev)
    return out


def _hit_scores(hit: Hit, evidence: list[Evidence]) -> str:
    """The card's score line: its rank shown, the raw scores (on the scale of the stage that
    gave them: a cross-encoder's, a tower's or a fusion's, not comparable across cards from
    different stages) only on hover, where a user reading the passage is not misled by them."""
    raw = [f"score {hit.score:.3f}"] + ([escape(hit.source)] if hit.source else [])
    raw += [f"span {ev.score:.2f}" for ev in evidence[:1] if ev.score > 0]
    # the cited cards come first, so a card's place in the panel is not its rank: the rank is
    # named as the retriever's (session 53's person test read "#2 · cited" above "#1" as a bug)
    rank = f"retrieval rank {hit.rank}" if hit.rank else "retrieved passage"
    return f'<span title="{" · ".join(raw)}">{rank}</span>'


def _card_tools(key: int | None, index: int, title: str) -> str:
    """The card's buttons (open the document; feedback that this passage answers the question,
    worded as the user's act, not as a claim the page makes about the passage); the page's script
    sends them to the server as ``open:<reply>:<passage>`` and ``right:<reply>:<passage>``."""
    if key is None:
        return ""
    ref = f"{int(key)}:{int(index)}"
    return (f'<div class="re3g-tools"><button type="button" data-re3g-open="{ref}" '
            f'aria-label="Open the whole document {title}">Open document</button>'
            f'<button type="button" data-re3g-right="{ref}" aria-label="Tell us this '
            f'passage answers the question (feedback)">Mark as the right passage</button>'
            f'</div>')


def _badge(numbers: list[int]) -> str:
    return "".join(f'<span class="re3g-badge">[{int(n)}]</span> ' for n in numbers)


def _passage_card(hit: Hit, evidence: list[Evidence], used: bool, index: int = 0,
                  key: int | None = None, numbers: list[int] | None = None,
                  runner_up: Evidence | None = None) -> str:
    """One passage's card; its first evidence span is highlighted, and ``runner_up`` (the
    sentence a tentative reply names, given only when it lies here) too, in another
    colour."""
    p = hit.passage
    marks = [(ev.text, ev.start - p.start, "") for ev in evidence[:1]]
    if runner_up is not None:
        marks.append((runner_up.text, runner_up.start - p.start, "re3g-alt"))
    text_html = highlight_spans(p.text, marks)
    section = f" › {escape(p.section)}" if p.section and p.section != p.title else ""
    cls = "re3g-passage used" if used else "re3g-passage"
    anchor = f' id="re3g-ev-{int(key)}-{int(numbers[0])}"' if key is not None and numbers else ""
    opener = f' data-re3g-open="{int(key)}:{int(index)}"' if key is not None else ""
    return (
        f'<div class="{cls}"{anchor}><div class="re3g-head">{_badge(numbers or [])}'
        f'<b>{escape(p.title)}</b>{section}</div>'
        f'<div class="re3g-scores">{_hit_scores(hit, evidence)}{" · cited" if used else ""} · '
        f'<code>{escape(p.doc_id)}</code></div>'
        f'<div class="re3g-text"{opener}>{text_html}</div>'
        f'{_card_tools(key, index, escape(p.title))}</div>'
    )


def _orphan_evidence(ev: Evidence, number: int | None = None) -> str:
    section = f" › {escape(ev.section)}" if ev.section else ""
    badge = _badge([number]) if number else ""
    return (
        f'<div class="re3g-passage used"><div class="re3g-head">{badge}<b>{escape(ev.title)}</b>'
        f'{section}</div><div class="re3g-scores">span {ev.score:.2f} · '
        f'<code>{escape(ev.doc_id)}</code></div>'
        f'<div class="re3g-text"><mark>{escape(ev.text)}</mark></div></div>'
    )


def timings_table(timings: dict[str, float]) -> str:
    """A small table of per-stage timings in milliseconds."""
    if not timings:
        return ""
    rows = "".join(
        f"<tr><td>{escape(STAGE_LABELS.get(k, k))}</td><td>{v * 1000:.0f} ms</td></tr>"
        for k, v in timings.items()
    )
    return f'<table class="re3g-timings"><tr><th>stage</th><th>time</th></tr>{rows}</table>'


_PANEL = {
    "missing": "the question asks for {what}, and the best sentence found does not give one",
    "absent_here": "the closest document, {title}, does not mention {words}, which the "
                   "question asks about",
    "absent": "no document mentions {words}, which the question asks about",
    "repeated_new": "the best sentence found is one an earlier reply already gave, and it "
                    "holds none of the words this question newly asks",
    "repeated_unsure": "the best sentence found is one an earlier reply already gave, and the "
                       "decision was not sure of it"}
"""The evidence panel's status-line wording of each check's refusal
(:func:`re3g.generate.refusal.check_refused`)."""


def refused_why(answer: Answer) -> str | None:
    """Why one of the pipeline's refusal checks refused ``answer`` (``Answer.extra``'s
    ``missing``, ``absent`` with ``absent_from`` or ``repeated``), in the words of the evidence
    panel's status line;
    None for any other answer.

    >>> refused_why(Answer("", grounded=False, extra={"absent": ["scooters"]}))
    'no document mentions "scooters", which the question asks about'
    >>> refused_why(Answer("", grounded=False, extra={"absent": ["parking"],
    ...                                               "absent_from": "Plots"}))[:58]
    'the closest document, "Plots", does not mention "parking",'
    >>> refused_why(Answer("", grounded=False)) is None
    True
    """
    found = check_refused(answer)
    if found is None:
        return None
    check, fields = found
    if check == "repeated":
        check = "repeated_new" if fields["how"] == "nothing new" else "repeated_unsure"
    return _PANEL[check].format(**fields)


def evidence_html(answer: Answer, grounded: bool, threshold: float, corpus: str = "",
                  max_passages: int = 5, key: int | None = None,
                  numbers: dict[int, int] | None = None) -> str:
    """The whole evidence panel for one reply: status, the top ``max_passages`` passages
    (those holding the evidence spans always shown, and first), timings. With ``key`` (the reply's
    index in the chat) each card can open its document and be marked as the right passage;
    ``numbers`` (index in ``answer.evidence`` -> citation number) puts the reply's [n]
    markers on the cards that hold the cited spans."""
    numbers = numbers or {}
    position = {id(ev): i for i, ev in enumerate(answer.evidence)}
    why = " and the answer is not grounded" if not answer.grounded else ""
    tentative = grounded and bool(answer.extra.get("tentative"))
    refused_for = refused_why(answer)
    status = (
        f'<div class="re3g-unsure">Tentative: the reader is not sure which sentence answers '
        f"(how sure: {float(answer.extra.get('sure', 0.0)):.2f}); the next candidate is "
        f"highlighted in blue. Check the passages below.</div>"
        if tentative and answer.extra.get("tentative_reason") == "sentence" else
        f'<div class="re3g-unsure">Tentative: confidence {answer.confidence:.2f} is low, so '
        f"the documents may not say this. Check the passage below.</div>"
        if tentative else
        f'<div class="re3g-ok">Grounded in <b>{escape(corpus)}</b> · confidence '
        f"{answer.confidence:.2f}</div>"
        if grounded else
        f'<div class="re3g-weak">Not answered: {escape(refused_for)} (confidence '
        f"{answer.confidence:.2f}). The closest passages are listed below.</div>"
        if refused_for else
        f'<div class="re3g-weak">No good evidence: confidence {answer.confidence:.2f} '
        f"(threshold {threshold:.2f}){why}"
        f". The closest passages are listed below.</div>"
    )
    # the sentence a tentative reply names under it (app.session.tentative_note)
    runner_up = answer.evidence[1] if tentative and len(answer.evidence) > 1 else None
    cards: list[str] = []
    # the passages the reply quotes come first, in the order of their [n] markers; with
    # ``numbers`` only a span the reply cites is marked "cited" and highlighted (another
    # evidence span of the answer in a card is not what the reply says: session 52's person
    # test saw the reply's light-code row under a highlighted card of another row)
    cited_cards: list[tuple[int, str]] = []
    shown: set[int] = set()
    hidden = 0
    for i, hit in enumerate(answer.passages):
        evs = _evidence_for(hit, answer.evidence) if grounded else []
        if i >= max_passages and not evs:
            hidden += 1
            continue
        if evs:
            shown.update(id(e) for e in evs)
        said = [e for e in evs if position[id(e)] in numbers] if numbers else evs
        cited = sorted(numbers[position[id(e)]] for e in said if position[id(e)] in numbers)
        card = _passage_card(hit, said, used=bool(said), index=i, key=key, numbers=cited,
                             runner_up=runner_up if any(e is runner_up for e in evs) else None)
        if said:
            cited_cards.append((cited[0] if cited else 0, card))
        else:
            cards.append(card)
    cards = [card for _, card in sorted(cited_cards, key=lambda c: c[0])] + cards
    if hidden:
        cards.append(f'<div class="re3g-scores">{hidden} more passage(s) retrieved.</div>')
    if grounded:  # a cited span whose passage is not listed gets a card of its own, first
        cards[:0] = [_orphan_evidence(ev, numbers.get(position[id(ev)]))
                     for ev in answer.evidence
                     if id(ev) not in shown and (not numbers or position[id(ev)] in numbers)]
    body = "".join(cards) or "<p>No passages were retrieved.</p>"
    return f'<div class="re3g-evidence">{status}{body}{timings_table(answer.timings)}</div>'


def message_html(text: str) -> str:
    """The evidence panel's placeholder or an error note."""
    return f'<div class="re3g-evidence"><p>{escape(text)}</p></div>'

