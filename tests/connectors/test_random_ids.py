"""Identifiers from the pooled OS random source: shape, never repeated, fresh after a fork."""

from __future__ import annotations

import os
import re

import pytest

from connectors import random_ids
from connectors.random_ids import random_bytes, random_hex, random_urlsafe


def test_identifiers_have_the_asked_size_and_alphabet() -> None:
    assert re.fullmatch(r"[0-9a-f]{24}", random_hex(12))
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", random_urlsafe(16))
    assert len(random_bytes(5000)) == 5000  # larger than a block: read directly


def test_no_identifier_is_handed_out_twice_across_refills() -> None:
    seen = {random_hex(12) for _ in range(5000)}  # about fifteen 4 KiB blocks
    assert len(seen) == 5000


def test_a_forked_child_starts_from_fresh_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    # os.register_at_fork runs forget() in every child; a child that kept the
    # parent's unused bytes would hand out the parent's next identifiers.
    random_ids._pool.forget()
    random_hex(12)  # a fresh block, with plenty left
    reads: list[int] = []
    real = os.urandom

    def counting(size: int) -> bytes:
        reads.append(size)
        return real(size)

    monkeypatch.setattr(random_ids.os, "urandom", counting)
    random_hex(12)
    assert reads == []  # served from the block already read
    random_ids._pool.forget()
    random_hex(12)
    assert reads == [4096]
