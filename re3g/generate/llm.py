"""Grounded generation with a chat LLM (llama.cpp, transformers, or an OpenAI-compatible server).

The LLM is any object with ``chat(messages, max_tokens, temperature) -> str`` and
``stream(messages, max_tokens, temperature) -> Iterator[str]`` (``re3g.llm.base.ChatLLM``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from re3g.generate.base import (
    MAX_TURN_CHARS,
    check_history,
    clean_text,
    order_evidence,
    strip_leading,
)
from re3g.types import Evidence, Hit, Turn

SYSTEM_PROMPT = (
    "You are a support agent who answers the user's questions using ONLY the evidence below, "
    "taken from official documents. Do not add facts, numbers, dates or links that are not in "
    "the evidence. If the evidence does not answer the question, say that you cannot find it "
    "in the documents, or ask a short clarifying question. If the evidence states a condition, "
    "ask the user whether it applies to them. Reply in one to three sentences, in plain text."
)


def build_messages(
    history: list[Turn],
    evidence: list[Evidence],
    passages: list[Hit],
    max_passages: int = 2,
    max_passage_chars: int = 1200,
    max_turns: int = 8,
    system_prompt: str = SYSTEM_PROMPT,
) -> list[dict[str, str]]:
    """OpenAI-style messages: instructions + evidence as the system message, then the dialogue.

    Evidence spans come first (they are what the answer must rest on), then up to
    ``max_passages`` passages for context. Earlier turns become user/assistant messages.

    >>> ev = [Evidence("d", "Fees", "It is $25.", 0, 9, [])]
    >>> msgs = build_messages([Turn(1, "user", "Fee?")], ev, [])
    >>> [m["role"] for m in msgs]
    ['system', 'user']
    >>> "It is $25." in msgs[0]["content"]
    True
    """
    check_history(history)
    lines = [system_prompt, "", "Evidence:"]
    ordered = order_evidence(evidence)
    for i, ev in enumerate(ordered, 1):
        title = f" ({clean_text(ev.title)})" if ev.title else ""
        lines.append(f"[{i}]{title} {clean_text(ev.text)}")
    if not ordered:
        lines.append("(no evidence span was selected)")
    shown = list(passages)[:max_passages]
    if shown:
        lines += ["", "Context passages:"]
        for hit in shown:
            p = hit.passage
            body = clean_text(p.text)
            if len(body) > max_passage_chars:
                body = body[:max_passage_chars].rsplit(" ", 1)[0] + " ..."
            lines.append(f"- {clean_text(p.title)}: {body}")
    messages = [{"role": "system", "content": "\n".join(lines)}]
    for turn in [t for t in history if (t.utterance or "").strip()][-max_turns:]:
        role = "user" if turn.role == "user" else "assistant"
        text = (turn.utterance or "")[:MAX_TURN_CHARS].strip()
        if messages[-1]["role"] == role and len(messages) > 1:
            messages[-1]["content"] += "\n" + text  # two turns in a row from one side
        else:
            messages.append({"role": role, "content": text})
    if messages[1]["role"] != "user":  # chat templates want the dialogue to open with the user
        messages.insert(1, {"role": "user", "content": "Hello."})
    return messages


class LLMGenerator:
    """Reply with a chat LLM prompted to answer only from the evidence.

    >>> class Echo:
    ...     name = "echo"
    ...     def chat(self, messages, max_tokens=512, temperature=0.0):
    ...         return "You can renew online."
    ...     def stream(self, messages, max_tokens=512, temperature=0.0):
    ...         yield from ["You can ", "renew online."]
    >>> gen = LLMGenerator(Echo())
    >>> list(gen.stream([Turn(1, "user", "How do I renew?")], [], []))
    ['You can ', 'renew online.']
    """

    def __init__(self, llm: Any, max_tokens: int = 200, temperature: float = 0.0,
                 max_passages: int = 2, system_prompt: str = SYSTEM_PROMPT) -> None:
        if not callable(getattr(llm, "chat", None)) or not callable(getattr(llm, "stream", None)):
            raise TypeError("llm must have chat(messages, max_tokens, temperature) and stream(...)")
        if max_tokens < 1 or temperature < 0:
            raise ValueError("max_tokens must be >= 1 and temperature >= 0")
        self.llm = llm
        self.name = str(getattr(llm, "name", type(llm).__name__))
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.max_passages = max_passages
        self.system_prompt = system_prompt

    def messages(self, history: list[Turn], evidence: list[Evidence],
                 passages: list[Hit]) -> list[dict[str, str]]:
        """The prompt sent to the LLM for this turn."""
        return build_messages(history, evidence, passages, self.max_passages,
                              system_prompt=self.system_prompt)

    def generate(self, history: list[Turn], evidence: list[Evidence], passages: list[Hit]) -> str:
        msgs = self.messages(history, evidence, passages)
        return self.llm.chat(msgs, max_tokens=self.max_tokens,
                             temperature=self.temperature).strip()

    def stream(
        self, history: list[Turn], evidence: list[Evidence], passages: list[Hit]
    ) -> Iterator[str]:
        msgs = self.messages(history, evidence, passages)
        yield from strip_leading(self.llm.stream(msgs, max_tokens=self.max_tokens,
                                                 temperature=self.temperature))
