"""Counting tokens locally, for servers whose streams carry no ``usage``.

``--tokenizer DIR`` names a Hugging Face tokenizer directory (its ``tokenizer.json``) or the file
itself; it is read with the ``tokenizers`` library (the ``serve`` extra), offline. The count of a
response is the number of tokens of its text without special tokens, as vLLM's client counts
when usage is missing; re-tokenising text can differ from the tokens the model produced by a
token or two at merges, and a chat prompt's count leaves out the chat template, so a run counted
this way says so (``token_source: tokenizer``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bench.errors import UsageError


def load_counter(path: str) -> Callable[[str], int]:
    """A function giving the number of tokens of a text, from a local tokenizer.

    Raises:
        UsageError: no ``tokenizers`` package, no ``tokenizer.json``, or an unreadable one.
    """
    try:
        from tokenizers import Tokenizer
    except ImportError:
        raise UsageError("--tokenizer needs the tokenizers package: pip install 'sitebench[serve]'") from None
    file = Path(path)
    if file.is_dir():
        file = file / "tokenizer.json"
    if not file.is_file():
        raise UsageError(f"--tokenizer {path}: no tokenizer.json there (a Hugging Face tokenizer directory)")
    try:
        tok = Tokenizer.from_file(str(file))
    except Exception as exc:  # noqa: BLE001 - the tokenizers library raises its own exception types
        raise UsageError(f"--tokenizer {path}: cannot read {file.name} ({exc})") from None

    def count(text: str) -> int:
        return len(tok.encode(text, add_special_tokens=False).ids) if text else 0

    return count
