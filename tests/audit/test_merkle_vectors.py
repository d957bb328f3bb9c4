"""The RFC 9162 proof vectors of transparency-dev/merkle.

A copy lives in tests/audit/vectors/rfc9162/ (Apache-2.0, LICENSE beside it) so the
test runs on any checkout; ../shared/vectors/rfc9162/, when present, is used
instead so a refreshed upstream copy is tested at once.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from gateway.audit.errors import ProofError
from gateway.audit.merkle import verify_consistency, verify_inclusion

SHARED_VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "vectors" / "rfc9162"
VENDORED_VECTORS = Path(__file__).resolve().parent / "vectors" / "rfc9162"
VECTOR_ROOT = SHARED_VECTORS if SHARED_VECTORS.is_dir() else VENDORED_VECTORS

if not VECTOR_ROOT.is_dir():
    pytest.skip(f"RFC 9162 vectors not found at {VECTOR_ROOT}", allow_module_level=True)

INCLUSION_FILES = sorted((VECTOR_ROOT / "inclusion").rglob("*.json"))
CONSISTENCY_FILES = sorted((VECTOR_ROOT / "consistency").rglob("*.json"))


def _case_id(path: Path) -> str:
    return path.relative_to(VECTOR_ROOT).as_posix()


def _load(path: Path) -> dict[str, Any]:
    case: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(case["wantErr"], bool), f"{path} has no boolean wantErr"
    return case


def _decode(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def _proof(case: dict[str, Any]) -> list[bytes]:
    # Some vectors carry "proof": null for an empty path.
    return [_decode(item) for item in case.get("proof") or []]


def test_every_vector_directory_is_populated() -> None:
    # Guards against a silently empty parametrization if the layout changes.
    assert len(INCLUSION_FILES) > 50
    assert len(CONSISTENCY_FILES) > 50


@pytest.mark.parametrize("path", INCLUSION_FILES, ids=_case_id)
def test_inclusion_vector(path: Path) -> None:
    case = _load(path)

    def verify() -> None:
        verify_inclusion(
            _decode(case["leafHash"]),
            case["leafIdx"],
            case["treeSize"],
            _proof(case),
            _decode(case["root"]),
        )

    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify()
    else:
        verify()


@pytest.mark.parametrize("path", CONSISTENCY_FILES, ids=_case_id)
def test_consistency_vector(path: Path) -> None:
    case = _load(path)

    def verify() -> None:
        verify_consistency(
            case["size1"],
            case["size2"],
            _proof(case),
            _decode(case["root1"]),
            _decode(case["root2"]),
        )

    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify()
    else:
        verify()
