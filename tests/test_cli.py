"""The ``credgate`` command, run in-process and (for the demo) as a real process."""

from __future__ import annotations

import argparse
import json
import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from gateway.cli import build_parser, main


def _subcommand_paths(parser: argparse.ArgumentParser, prefix: list[str]) -> list[list[str]]:
    paths = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                paths.append([*prefix, name])
                paths.extend(_subcommand_paths(sub, [*prefix, name]))
    return paths


@pytest.mark.parametrize("path", _subcommand_paths(build_parser(), []), ids=" ".join)
def test_every_subcommand_has_help(path: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*path, "--help"])
    assert exit_info.value.code == 0
    assert "usage: credgate" in capsys.readouterr().out


def test_keys_init_is_private_and_idempotent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["keys", "init", "--data-dir", str(tmp_path)]) == 0
    keys = sorted((tmp_path / "keys").iterdir())
    assert [k.name for k in keys] == [
        "audit-signing.pem",
        "blind-index.key",
        "gateway-signing.pem",
        "subject-encryption.key",
        "token-signing.pem",
    ]
    for key in keys:
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    before = {k.name: k.read_bytes() for k in keys}
    assert main(["keys", "init", "--data-dir", str(tmp_path)]) == 0
    assert "already present" in capsys.readouterr().out
    assert before == {k.name: k.read_bytes() for k in sorted((tmp_path / "keys").iterdir())}
    assert main(["keys", "show", "--data-dir", str(tmp_path), "--format", "jwks"]) == 0
    assert json.loads(capsys.readouterr().out)["keys"][0]["kty"] == "OKP"


def test_db_upgrade_then_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "status", "--data-dir", str(tmp_path)]) == 1
    assert "behind" in capsys.readouterr().out
    assert main(["db", "upgrade", "--data-dir", str(tmp_path)]) == 0
    assert "upgraded" in capsys.readouterr().out
    assert main(["db", "upgrade", "--data-dir", str(tmp_path)]) == 0
    assert "already at" in capsys.readouterr().out
    assert main(["db", "status", "--data-dir", str(tmp_path)]) == 0


def test_serve_refuses_a_database_that_is_behind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["keys", "init", "--data-dir", str(tmp_path)])
    assert main(["serve", "--data-dir", str(tmp_path), "--port", "1"]) == 2
    error = capsys.readouterr().err
    assert "credgate db upgrade" in error
    assert str(tmp_path) in error


def test_serve_refuses_a_missing_key_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["keys", "init", "--data-dir", str(tmp_path)])
    main(["db", "upgrade", "--data-dir", str(tmp_path)])
    (tmp_path / "keys" / "audit-signing.pem").unlink()
    assert main(["serve", "--data-dir", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert "audit-signing.pem" in error
    assert "credgate keys init" in error


def test_serve_refuses_a_corrupt_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["keys", "init", "--data-dir", str(tmp_path)])
    main(["db", "upgrade", "--data-dir", str(tmp_path)])
    (tmp_path / "keys" / "token-signing.pem").write_text("garbage")
    assert main(["serve", "--data-dir", str(tmp_path)]) == 2
    assert "token-signing.pem: not a PEM private key" in capsys.readouterr().err


def test_corrupted_config_refuses_to_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "credgate.toml"
    config.write_text("[gateway\npublic_url = 1\n")
    assert main(["serve", "--config", str(config)]) == 2
    error = capsys.readouterr().err
    assert str(config) in error
    assert "not valid TOML" in error


def test_config_with_a_wrong_type_refuses_to_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "credgate.toml"
    config.write_text("[graphql]\nmax_depth = 'deep'\n")
    assert main(["db", "upgrade", "--config", str(config)]) == 2
    assert "graphql.max_depth" in capsys.readouterr().err


def test_missing_config_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--config", str(tmp_path / "nope.toml")]) == 2
    assert "config file not found" in capsys.readouterr().err


def test_schema_prints_sdl(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    sdl = capsys.readouterr().out
    assert "type Query" in sdl
    assert "me: Me!" in sdl


def test_plain_http_is_refused_off_loopback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "credgate.toml"
    config.write_text('[gateway]\npublic_url = "http://gateway.court.example"\n')
    assert main(["serve", "--config", str(config)]) == 2
    assert "must be https" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _run_demo(data_dir: Path, port: int) -> subprocess.Popen[str]:
    command = [
        sys.executable,
        "-m",
        "gateway.cli",
        "demo",
        "--data-dir",
        str(data_dir),
        "--port",
        str(port),
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )


def _wait_ready(port: int, process: subprocess.Popen[str], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            pytest.fail(f"demo exited early: {output}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    pytest.fail("demo did not become ready in time")


def _stop(process: subprocess.Popen[str]) -> str:
    process.terminate()
    try:
        output, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output


def test_demo_serves_and_is_idempotent(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    port = _free_port()
    process = _run_demo(data_dir, port)
    try:
        _wait_ready(port, process)
        document = json.loads((data_dir / "demo.json").read_text())
        assert stat.S_IMODE((data_dir / "demo.json").stat().st_mode) == 0o600
        assert document["gateway"] == f"http://127.0.0.1:{port}/graphql"
        assert {"officer", "auditor"} <= set(document["clients"])
        officer = document["clients"]["officer"]
        token = httpx.post(
            document["token_endpoint"],
            data={"grant_type": "client_credentials"},
            auth=(officer["client_id"], officer["client_secret"]),
            timeout=10,
        ).json()["access_token"]
        me = httpx.post(
            document["gateway"],
            json={"query": "{ me { role officerId } }"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ).json()
        assert me["data"]["me"]["role"] == "officer"
    finally:
        output = _stop(process)
    assert "curl" in output
    assert officer["client_secret"] in output

    process = _run_demo(data_dir, port)
    try:
        _wait_ready(port, process)
        again = json.loads((data_dir / "demo.json").read_text())
        assert again["clients"] == document["clients"]
    finally:
        _stop(process)
