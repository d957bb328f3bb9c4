"""``credgate connector serve --simulated-latency-ms``: a benchmark aid, checked at start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from connectors.catalog import KINDS
from connectors.signing import generate_key_file
from gateway.cli import main


def test_a_negative_simulated_latency_is_refused_before_serving(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    generate_key_file(tmp_path / "agency.pem")
    _, gateway_public = generate_key_file(tmp_path / "gateway.pem")
    code = main(
        [
            "connector",
            "serve",
            "bank",
            "--agency-id",
            "bank-icbc",
            "--database-url",
            f"sqlite:///{tmp_path / 'unused.sqlite'}",
            "--key",
            str(tmp_path / "agency.pem"),
            "--gateway-key",
            str(gateway_public),
            "--simulated-latency-ms",
            "-1",
        ]
    )
    assert code == 2
    assert "--simulated-latency-ms must be >= 0" in capsys.readouterr().err


def _serve_args(tmp_path: Path, kind: str, *extra: str) -> list[str]:
    if not (tmp_path / "agency.pem").exists():
        generate_key_file(tmp_path / "agency.pem")
        generate_key_file(tmp_path / "gateway.pem")
    return [
        "connector",
        "serve",
        kind,
        "--agency-id",
        "pawnshop-jinding",
        "--database-url",
        f"sqlite:///{tmp_path / 'unused.sqlite'}",
        "--key",
        str(tmp_path / "agency.pem"),
        "--gateway-key",
        str(tmp_path / "gateway.pub.pem"),
        *extra,
    ]


def test_an_unknown_kind_is_refused_naming_the_known_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_serve_args(tmp_path, "pawnshop")) == 2
    error = capsys.readouterr().err
    assert "unknown agency kind 'pawnshop' (known: bank, civil_affairs" in error


def test_a_broken_kind_spec_is_refused_before_serving(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _serve_args(tmp_path, "pawnshop", "--kind-spec", "tests.no_such_module:KIND")
    assert main(args) == 2
    assert "cannot import 'tests.no_such_module'" in capsys.readouterr().err


async def test_an_agency_serves_its_own_kind_loaded_with_kind_spec(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **_: served.append(app))
    try:
        args = _serve_args(tmp_path, "pawnshop", "--kind-spec", "tests.pawnshop_kind:KIND")
        assert main(args) == 0
        (app,) = served
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://agency"
        ) as http:
            answer = (await http.get("/v1/datasets")).json()
    finally:
        if "pawnshop" in KINDS:
            KINDS.unregister("pawnshop")
    assert answer["agency"]["kind"] == "pawnshop"
    assert answer["datasets"] == ["pawnshop.pledges"]
