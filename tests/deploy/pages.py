"""The deployment guide's blocks, as the deployment tests run them."""

from __future__ import annotations

from pathlib import Path

from tests.docs.test_examples import DOCS, blocks

#: The page whose Slurm script and Kubernetes manifests the tests run.
GUIDE = DOCS / "guides" / "shards.md"
#: Appended to the page's `miners run`: polls every 0.25 s, a short warm-up, two windows of 3 s (as the miners tests).
FAST = ["--period", "0.25", "--warmup", "5", "--window", "3", "--repeats", "2", "--timeout", "1"]


def block(page: Path, title: str) -> str:
    """The body of the one block of ``page`` whose title is ``title`` or starts with it."""
    found = [b.body for b in blocks(page) if b.title == title or b.title.startswith(title)]
    assert len(found) == 1, f"{page.name}: {len(found)} blocks titled {title!r}"
    return found[0]
