"""``credgate connector serve --simulated-latency-ms``: a benchmark aid, checked at start."""

from __future__ import annotations

from pathlib import Path

import pytest

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
