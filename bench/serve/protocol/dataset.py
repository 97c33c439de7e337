"""The requests a serve benchmark sends: ``random:in=N,out=M`` or a JSONL file.

Random prompts without a tokenizer download. A prompt of N tokens for a tokenizer sitebench
does not have is made of N' words drawn (seeded, per request) from a list of common English
words, where N' comes from the server itself: the probe (:mod:`bench.serve.protocol.server`) sends two
prompts of known word counts and reads ``usage.prompt_tokens`` back, which gives tokens per word
and the fixed overhead (a chat template's tokens) of this server's tokenizer. Common words are
one token each in the byte-level BPE vocabularies of current models, so prompts come out within
a few tokens of N; the exact count of every request is the server's ``usage.prompt_tokens``,
and that is what the metrics use. Token-id prompts would be exact but need the vocabulary and
are refused by servers that take text only (``transformers serve``), so they are not used.

JSONL files: one JSON object per line with ``prompt`` (a string; both endpoints) or
``messages`` (a list of ``{"role", "content"}``; chat only), and optionally ``output_tokens``
(or ``max_tokens``), a positive integer, the most tokens to generate (default
:data:`DEFAULT_OUTPUT_TOKENS`). Blank lines are skipped; any other bad line is refused with its
line number.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.errors import UsageError

DEFAULT_OUTPUT_TOKENS = 128

WORDS = [
    "time", "year", "people", "way", "day", "man", "thing", "woman", "life", "child", "world", "school", "state",
    "family", "student", "group", "country", "problem", "hand", "part", "place", "case", "week", "company", "system",
    "program", "question", "work", "government", "number", "night", "point", "home", "water", "room", "mother", "area",
    "money", "story", "fact", "month", "lot", "right", "study", "book", "eye", "job", "word", "business", "issue",
    "side", "kind", "head", "house", "service", "friend", "father", "power", "hour", "game", "line", "end", "member",
    "law", "car", "city", "community", "name", "president", "team", "minute", "idea", "kid", "body", "information",
    "back", "parent", "face", "others", "level", "office", "door", "health", "person", "art", "war", "history", "party",
    "result", "change", "morning", "reason", "research", "girl", "guy", "moment", "air", "teacher", "force",
    "education", "foot", "boy", "age", "policy", "process", "music", "market", "sense", "nation", "plan", "college",
    "interest", "death", "experience", "effect", "use", "class", "control", "care", "field", "development", "role",
    "effort", "rate", "heart", "drug", "show", "leader", "light", "voice", "wife", "police", "mind", "price", "report",
    "decision", "son", "view", "relationship", "town", "road", "arm", "difference", "value", "building", "action",
    "model", "season", "society", "tax", "director", "position", "player", "record", "paper", "space", "ground", "form",
    "event", "official", "matter", "center", "couple", "site", "project", "activity", "star", "table", "need", "court",
    "oil", "situation", "cost", "industry", "figure", "street", "image", "phone", "data", "picture", "practice",
    "piece", "land", "product", "doctor", "wall", "patient", "worker", "news", "test", "movie", "north", "love",
    "support", "technology", "step", "baby", "computer", "type", "attention", "film", "tree", "source", "organization",
    "hair", "window", "evidence", "population", "energy", "grid", "watt", "river", "stone", "garden"
]


@dataclass(frozen=True)
class Prompt:
    """One request's input: a text ``prompt`` or chat ``messages``, and its output token cap."""

    max_tokens: int
    prompt: str | None = None
    messages: list[dict[str, Any]] | None = field(default=None, hash=False)

    def chat_messages(self) -> list[dict[str, Any]]:
        """The messages for the chat endpoint (a text prompt becomes one user message)."""
        return self.messages if self.messages is not None else [{"role": "user", "content": self.prompt or ""}]


@dataclass(frozen=True)
class RandomSpec:
    """``random:in=N,out=M``: prompts of about N tokens asking for M tokens each."""

    input_tokens: int
    output_tokens: int


def parse_spec(text: str) -> RandomSpec | Path:
    """``random:in=N,out=M`` as a :class:`RandomSpec`, anything else as a JSONL path.

    Raises:
        UsageError: a malformed ``random:`` spec.
    """
    if not text.startswith("random:"):
        return Path(text)
    values: dict[str, int] = {}
    for item in text[len("random:"):].split(","):
        key, _, value = item.strip().partition("=")
        if key not in ("in", "out") or not value.isdigit() or int(value) <= 0:
            raise UsageError(f"--dataset {text}: expected random:in=N,out=M with positive integers N and M")
        values[key] = int(value)
    if set(values) != {"in", "out"}:
        raise UsageError(f"--dataset {text}: expected random:in=N,out=M (both in= and out=)")
    return RandomSpec(values["in"], values["out"])


def random_text(words: int, seed: int, index: int) -> str:
    """``words`` words drawn for request ``index`` of a run seeded with ``seed`` (reproducible)."""
    rng = random.Random(seed * 1_000_003 + index)
    return " ".join(rng.choices(WORDS, k=max(1, words)))


def random_prompts(spec: RandomSpec, count: int, seed: int, words_for: Callable[[int], int],
                   *, first_index: int = 0) -> list[Prompt]:
    """``count`` random prompts; ``words_for(tokens)`` is the calibrated word count for a token count."""
    words = words_for(spec.input_tokens)
    return [Prompt(spec.output_tokens, prompt=random_text(words, seed, first_index + i)) for i in range(count)]


def _line_error(path: Path, number: int, reason: str) -> UsageError:
    return UsageError(f"--dataset {path}: line {number}: {reason}")


def _parse_line(path: Path, number: int, line: str, chat: bool) -> Prompt:
    try:
        doc = json.loads(line)
    except json.JSONDecodeError as exc:
        raise _line_error(path, number, f"not JSON ({exc.msg})") from None
    if not isinstance(doc, dict):
        raise _line_error(path, number, "not a JSON object")
    has_prompt, has_messages = "prompt" in doc, "messages" in doc
    if has_prompt == has_messages:
        raise _line_error(path, number, "needs exactly one of 'prompt' or 'messages'")
    out = doc.get("output_tokens", doc.get("max_tokens", DEFAULT_OUTPUT_TOKENS))
    if not isinstance(out, int) or isinstance(out, bool) or out <= 0:
        raise _line_error(path, number, f"output_tokens must be a positive integer, not {out!r}")
    if has_prompt:
        if not isinstance(doc["prompt"], str) or not doc["prompt"]:
            raise _line_error(path, number, "'prompt' must be a non-empty string")
        return Prompt(out, prompt=doc["prompt"])
    if not chat:
        raise _line_error(path, number, "'messages' needs --endpoint chat (the completions endpoint takes 'prompt')")
    messages = doc["messages"]
    if not isinstance(messages, list) or not messages or not all(
        isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), (str, list))
        for m in messages
    ):
        raise _line_error(path, number, "'messages' must be a non-empty list of {\"role\": str, \"content\": ...}")
    return Prompt(out, messages=messages)


def load_jsonl(path: Path, *, chat: bool, limit: int | None = None) -> list[Prompt]:
    """The prompts of a JSONL file, every line checked.

    Args:
        chat: the chat endpoint is used (lines may carry ``messages``).
        limit: take the first ``limit`` prompts; the file must hold at least that many.

    Raises:
        UsageError: unreadable file, a bad line (with its number), too few prompts.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--dataset {path}: cannot read it ({exc})") from None
    prompts = [_parse_line(path, n, line, chat) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not prompts:
        raise UsageError(f"--dataset {path}: no prompts in the file")
    if limit is not None:
        if len(prompts) < limit:
            raise UsageError(f"--dataset {path}: {len(prompts)} prompts, fewer than --num-prompts {limit} "
                             "(repeating prompts would let a prefix cache flatter the server)")
        prompts = prompts[:limit]
    return prompts
