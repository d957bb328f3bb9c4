"""The malloc arena bound that keeps the gateway's RSS flat under load."""

from __future__ import annotations

import ctypes.util
import platform

import pytest

from gateway.memory import limit_malloc_arenas


@pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
    reason="mallopt(M_ARENA_MAX) is a glibc interface",
)
def test_arenas_are_bounded_on_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert ctypes.util.find_library("c") is not None
    assert limit_malloc_arenas() is True


def test_an_operators_setting_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_malloc_arenas() is False
