"""Decide per user turn: grounded document answer, code answer, or both.

Explicit control first: a message starting with ``/code``, ``/docs`` or ``/both`` goes where it
says. Otherwise a small rule-based classifier scores programming cues (language and library
names, code syntax, error names, programming vocabulary) against cues of the document domains
(licences, benefits, loans, forms) and picks a route; uncertain turns go to the documents.

>>> route("/code how do I sort a dict by value?")
'code'
>>> route("How do I reverse a list in Python?")
'code'
>>> route("How do I renew my driver's license?")
'docs'

A question that matches the open corpus well never goes to the code tool: give
:func:`decide` the corpus's own retrieval score (:func:`corpus_match`: the question against its
best retrieved passages) and a score of at least :data:`CORPUS_MATCH` keeps the turn on the
documents ("which generator backends are there?" over a corpus that documents its generator
backends).

>>> decide("Which generator backends are there?").route
'code'
>>> decide("Which generator backends are there?", corpus_score=0.7).route
'docs'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Route = Literal["code", "docs", "both"]
COMMANDS: dict[str, Route] = {"/code": "code", "/docs": "docs", "/doc": "docs", "/both": "both"}
CODE_THRESHOLD = 2.0
DOC_THRESHOLD = 2.0
CORPUS_MATCH = 0.5
"""A corpus score (:func:`corpus_match`) from which a turn stays on the documents. Over the
sample corpus its own user questions that the rules call code score 0.70-0.78, the labelled
code questions of tests/data/code_router.jsonl at most 0.38 (docs/code_tool.md)."""

_W = r"(?<![\w.])(?:{})(?![\w])"
# (weight, name, pattern): each rule counts once per message.
CODE_RULES: list[tuple[float, str, re.Pattern[str]]] = [(w, n, re.compile(p, re.I)) for w, n, p in [
    (3, "language", _W.format(
        r"python3?|javascript|typescript|java|c\+\+|c#|golang|rust|kotlin|php|ruby|perl|bash|"
        r"powershell|sql|html|css|numpy|pandas|pytest|django|flask|react|node\.?js|gcc|"
        r"git|docker(?:file)?|pip|regex|regexp|json|yaml|jupyter|matplotlib|pytorch|"
        r"tensorflow|postgres(?:ql)?|sqlite|mysql|linux|unix|argparse|asyncio|f-string")),
    (3, "error-name", r"\b[A-Z][a-z]+(?:[A-Z][a-z]+)*(?:Error|Exception)\b|traceback|"
        r"segmentation fault|stack overflow|null pointer|syntax error|maximum recursion"),
    (3, "code-syntax", r"`[^`]+`|\b\w+\([^()]*\)|__\w+__|==|!=|\+=|->|=>|\bdef |\bimport \w|"
        r"\bfor \w+ in [\w.()]+:|\b(?:while|if) [\w.()\[\] ]*(?:[<>]=?|==|!=)[^:?]*:|"
        r"\w\[[^\]]*\]|\[[^\]]*,[^\]]*\]|\{[^}]*\}|\b\w+\.(?:py|js|ts|java|cpp|"
        r"c|h|rs|go|sh|ipynb|csv|txt)\b|\b[a-z]+_[a-z_]+\b"),
    (3, "write-code", r"\b(?:write|implement|code|create|give me|show me)\b[^.?!]{0,40}?\b"
        r"(?:function|program|script|class|method|query|regex|code|algorithm|loop|"
        r"generator|decorator|api)\b"),
    (2, "cs-term", _W.format(
        r"list comprehensions?|comprehensions?|recursion|recursive(?:ly)?|algorithm|"
        r"time complexity|big-?o|binary search|linked list|hash ?map|dictionar(?:y|ies)|"
        r"dicts?|tuples?|arrays?|try/except|integers?|floats?|strings?|booleans?|variables?|lambdas?|"
        r"decorators?|generators?|iterators?|yield|async|await|threads?|mutex|compiler?|"
        r"compile|debug(?:ger)?|refactor|unit tests?|virtual environment|venv|stdout|"
        r"stdin|bytes|bitwise|regular expression|sudoku|fizzbuzz|fibonacci|palindrome|"
        r"anagrams?|gcd|prime numbers?|matrix|transpose|memoi[sz]e|deep copy|shallow copy|"
        r"heap|stack|queue|enumerate|iterate|loop|syntax|runtime|borrow checker|"
        r"dataclass|object|objects|instance|inheritance|parse|parsing|serialize|"
        r"concatenate|substring|index|database|http request|web page|module|"
        r"package|install|keys? and values?|keyword|recursively")),
    (1, "code-word", _W.format(
        r"function|functions|class|classes|method|methods|code|script|program|programming|"
        r"implement|sort|sorted|sorting|bug|output|print|return|returns|type|file|files|"
        r"nested|duplicates|lines|chunks|elements|concurrently|run|api|null|none|library|"
        r"convert|flatten|count|frequenc(?:y|ies)|measure|list|lists|set|sets|exceptions?|"
        r"keeping order|order")),
]]
DOC_RULES: list[tuple[float, str, re.Pattern[str]]] = [(w, n, re.compile(p, re.I)) for w, n, p in [
    (3, "domain", _W.format(
        r"dmv|licen[cs]es?|driver'?s?|driving|vehicles?|cars?|plates?|registration|"
        r"register|title|inspection|road test|real id|social security|ssa|ssn|ssi|va|"
        r"veterans?|military|disability|disabled|pension|survivors?|burial|medicare|"
        r"retirement|benefits?|fafsa|student loans?|loans?|pell|grants?|gi bill|"
        r"scholarships?|tuition|school|college|repayment|forgive(?:n|ness)|appeal|claims?|"
        r"spouse|widow|dependents?|taxes|income|insurance|deposit|deferment|forbearance|"
        r"servicer|enrollment|eligib(?:le|ility)|birth certificate|passport|address")),
    (2, "admin", _W.format(
        r"apply|application|form|forms|office|appointment|fee|fees|documents?|"
        r"according to|the document|website|online|account|payments?|records?|"
        r"letter|card|check|renew|renewal|replace|lost|stolen|deadline|requirements?|"
        r"qualify|receive|status|help me|information|program|programs")),
]]
_STOP_ONLY = re.compile(r"^\W*(?:yes|no|ok|okay|thanks?|thank you|hi|hello|sure|nope)\W*$", re.I)


@dataclass
class RouteDecision:
    """The router's decision and why (scores and the rules that fired).

    >>> decide("Write a Python function for my loan payment").route
    'both'
    """

    route: Route
    code_score: float
    doc_score: float
    reasons: list[str] = field(default_factory=list)
    explicit: bool = False


def split_command(message: str) -> tuple[Route | None, str]:
    """Strip a leading ``/code``, ``/docs`` or ``/both``; return (route or None, rest).

    >>> split_command("/code  reverse a list")
    ('code', 'reverse a list')
    >>> split_command("reverse a list")
    (None, 'reverse a list')
    """
    text = message.strip()
    head, _, rest = text.partition(" ")
    if head.lower() in COMMANDS:
        return COMMANDS[head.lower()], rest.strip()
    return None, text


def _score(text: str, rules: list[tuple[float, str, re.Pattern[str]]]) -> tuple[float, list[str]]:
    total, fired = 0.0, []
    for weight, name, pattern in rules:
        hits = {m.group(0).lower() for m in pattern.finditer(text)}
        if hits:
            # a rule counts once; repeated cues of one kind add half a point each, up to +1
            total += weight + min(1.0, 0.5 * (len(hits) - 1))
            fired.append(f"{name}:{'|'.join(sorted(hits))[:40]}")
    return total, fired


def decide(message: str, corpus_score: float | None = None) -> RouteDecision:
    """Classify ``message``; explicit ``/code``-style prefixes win over the classifier.

    ``corpus_score`` (:func:`corpus_match` over the open corpus; None: not known) of at least
    :data:`CORPUS_MATCH` turns a "code" or "both" decision into "docs"."""
    explicit, text = split_command(message)
    if explicit:
        return RouteDecision(explicit, 0.0, 0.0, [f"explicit:{explicit}"], explicit=True)
    if not text or _STOP_ONLY.match(text):
        return RouteDecision("docs", 0.0, 0.0, ["no content"])
    c, c_why = _score(text, CODE_RULES)
    d, d_why = _score(text, DOC_RULES)
    if c >= CODE_THRESHOLD + 3 and d >= DOC_THRESHOLD + 3:
        r: Route = "both"
    elif c >= CODE_THRESHOLD and c > d:
        r = "code"
    else:
        r = "docs"
    why = c_why + d_why
    if r != "docs" and corpus_score is not None and corpus_score >= CORPUS_MATCH:
        r = "docs"
        why.append(f"corpus:{corpus_score:.2f}")
    return RouteDecision(r, c, d, why)


def corpus_match(question: str, passages: Sequence[str], encoder: Any) -> float:
    """How well ``question`` matches the corpus it would be asked of, in [0, 1]: the best,
    over ``passages`` (the texts of its top retrieved passages), of the mean of the dense
    cosine (``encoder``: a :func:`re3g.retrieve.dense.encode` encoder) and the share of the
    question's content stems found in the passage (:func:`re3g.data.words.stem_overlap`).

    Neither alone separates well on the sample corpus ("which generator backends are
    there?" has cosine 0.39 with its passage, "how do I use a heap to get the k smallest
    elements?" 0.39 with the compost heap); together they do (0.70 against 0.29).
    """
    from re3g.data.words import stem_overlap
    from re3g.retrieve.dense import encode

    texts = [t for t in passages if t and t.strip()]
    if not texts or not question.strip():
        return 0.0
    vecs = encode(encoder, [question, *texts])
    scores = [(max(0.0, float(vecs[0] @ vecs[i + 1])) + stem_overlap(question, t)) / 2
              for i, t in enumerate(texts)]
    return min(1.0, max(scores))


def route(message: str) -> Route:
    """``"code"``, ``"docs"`` or ``"both"`` for one user message (see :func:`decide`)."""
    return decide(message).route
