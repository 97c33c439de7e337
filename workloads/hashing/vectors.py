"""Published Bitcoin blocks: headers whose nonce a kernel must find under the block's own target."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Block:
    """A mined block header (wire byte order), its nonce, compact target and block hash (display order)."""

    height: int
    header80: str
    bits: str
    hash: str

    @property
    def prefix(self) -> bytes:
        """The 76 bytes before the nonce."""
        return bytes.fromhex(self.header80)[:76]

    @property
    def nonce(self) -> int:
        """The nonce the miner found (little-endian in the header)."""
        return int.from_bytes(bytes.fromhex(self.header80)[76:], "little")


GENESIS = Block(
    height=0,
    header80="01000000" + "00" * 32
    + "3ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a" + "29ab5f49" + "ffff001d" + "1dac2b7c",
    bits="1d00ffff",
    hash="000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f",
)

# The worked example of the Bitcoin wiki's "Block hashing algorithm" page.
BLOCK_125552 = Block(
    height=125552,
    header80="01000000" + "81cd02ab7e569e8bcd9317e2fe99f2de44d49ab2b8851ba4a308000000000000"
    + "e320b6c2fffc8d750423db8b1eb942ae710e951ed797f7affc8892b0f1fc122b" + "c7f5d74d" + "f2b9441a" + "42a14695",
    bits="1a44b9f2",
    hash="00000000000000001e8d6829a8a21adc5d38d0a473b144b6765798e61f98bd1d",
)

BLOCKS = (GENESIS, BLOCK_125552)
