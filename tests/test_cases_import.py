"""``credgate cases import``: good lines in, bad lines reported by number, idempotent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection
from stdnum.cn import ric

from gateway.case_store import CaseStore
from gateway.cli import main
from gateway.db import create_db_engine
from gateway.keys import load_keys
from tests.conftest import prepare_deployment

PERSON = "41082319900101001" + ric.calc_check_digit("41082319900101001" + "0")
FIRM = "91410882164803724M"


def _case(number: str, **changes: Any) -> dict[str, Any]:
    case: dict[str, Any] = {
        "case_number": number,
        "court": {"id": "court-wuzhi", "name": "武陟县人民法院"},
        "status": "open",
        "filed_on": "2024-03-01",
        "document": {
            "type": "assistance_inquiry_notice",
            "number": f"{number}之一",
            "valid_until": "2024-12-31",
        },
        "officers": [{"id": "officer-wz-001", "name": "李建国"}],
        "respondents": [{"resident_id": PERSON, "name": "张伟"}, {"credit_code": FIRM}],
    }
    case.update(changes)
    return case


def _write(path: Path, lines: list[Any]) -> Path:
    text = "\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines)
    path.write_text(text + "\n", encoding="utf-8")
    return path


@pytest.fixture
def data_dir(tmp_path: Path, database_url: str) -> Path:
    """A migrated deployment (SQLite and PostgreSQL)."""
    prepare_deployment(tmp_path / "data", database_url)
    return tmp_path / "data"


def _store(data_dir: Path, database_url: str) -> tuple[CaseStore, Any]:
    engine = create_db_engine(database_url)
    return CaseStore.from_keys(engine, load_keys(data_dir / "keys")), engine


def test_good_lines_are_imported_and_bad_ones_reported_by_line(
    data_dir: Path, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad_id = PERSON[:-1] + ("0" if PERSON[-1] != "0" else "1")
    path = _write(
        tmp_path / "cases.jsonl",
        [
            _case("(2024)豫0823执1234号"),
            "{not json",
            _case("(2024)豫0823执1235号", respondents=[{"resident_id": bad_id}]),
            "",
            _case("(2024)豫0823执1236号", status="paused"),
            _case("case 17"),
            _case("（2024）豫0823执1237号", status="closed", officers=[{"id": "officer-wz-002"}]),
        ],
    )

    code = main(["cases", "import", str(path), "--data-dir", str(data_dir)])

    out, err = capsys.readouterr()
    assert code == 1
    assert "imported 2 cases (2 new, 0 updated, 0 unchanged); 4 lines refused" in out
    assert f"{path}:2: line: not valid JSON" in err
    assert f"{path}:3: respondents[0].resident_id: wrong check digit" in err
    assert f"{path}:5: status: must be open, closed or terminated" in err
    assert f"{path}:6: case_number:" in err
    store, engine = _store(data_dir, database_url)
    try:
        case = store.case("(2024)豫0823执1234号")
        assert case is not None
        assert case.is_open
        assert case.officer_ids == ("officer-wz-001",)
        assert {(r.id_type, r.id_number) for r in case.respondents} == {
            ("resident_id", PERSON),
            ("uscc", FIRM),
        }
        closed = store.case("(2024)豫0823执1237号")  # Full-width brackets normalised.
        assert closed is not None
        assert closed.status == "closed"
        assert store.case("(2024)豫0823执1235号") is None
    finally:
        engine.dispose()


def test_importing_again_updates_in_place(
    data_dir: Path, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    number = "(2024)豫0823执1234号"
    first = _write(tmp_path / "a.jsonl", [_case(number)])
    assert main(["cases", "import", str(first), "--data-dir", str(data_dir)]) == 0
    assert main(["cases", "import", str(first), "--data-dir", str(data_dir)]) == 0
    changed = _write(
        tmp_path / "b.jsonl",
        [_case(number, status="closed", respondents=[{"credit_code": FIRM, "name": "德润"}])],
    )
    assert main(["cases", "import", str(changed), "--data-dir", str(data_dir)]) == 0

    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("imported 1 cases (1 new, 0 updated, 0 unchanged)")
    assert out[1].startswith("imported 0 cases (0 new, 0 updated, 1 unchanged)")
    assert out[2].startswith("imported 1 cases (0 new, 1 updated, 0 unchanged)")
    store, engine = _store(data_dir, database_url)
    try:
        case = store.case(number)
        assert case is not None
        assert case.status == "closed"
        assert [(r.id_number, r.name) for r in case.respondents] == [(FIRM, "德润")]
        assert [c.case_number for c in store.cases_of_officer("officer-wz-001")] == [number]
    finally:
        engine.dispose()


def test_an_officer_of_another_court_is_refused(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = {"id": "court-jiefang", "name": "焦作市解放区人民法院"}
    path = _write(
        tmp_path / "cases.jsonl",
        [_case("(2024)豫0823执1号"), _case("(2024)豫0802执2号", court=other)],
    )

    assert main(["cases", "import", str(path), "--data-dir", str(data_dir)]) == 1

    out, err = capsys.readouterr()
    assert "1 line refused" in out
    assert "officer-wz-001 belongs to court court-wuzhi" in err


def test_a_missing_file_fails_clearly(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["cases", "import", str(tmp_path / "nope.jsonl"), "--data-dir", str(data_dir)])

    assert code == 1
    assert "cannot read" in capsys.readouterr().err


def test_a_case_look_up_needs_no_transaction_and_leaves_none_behind(
    data_dir: Path, database_url: str, tmp_path: Path
) -> None:
    # The one-statement look-up runs in autocommit on a server (no BEGIN and no
    # ROLLBACK round trips); the pooled connection must come back transactional.
    number = "(2024)豫0823执1234号"
    path = _write(tmp_path / "cases.jsonl", [_case(number)])
    assert main(["cases", "import", str(path), "--data-dir", str(data_dir)]) == 0
    engine = create_db_engine(database_url, pool_size=1)
    store = CaseStore.from_keys(engine, load_keys(data_dir / "keys"))
    levels: list[object] = []

    @event.listens_for(engine, "before_cursor_execute")
    def note_level(connection: Connection, *_: Any) -> None:
        levels.append(connection.get_execution_options().get("isolation_level"))

    try:
        case = store.case(number)
        assert case is not None
        assert case.case_number == number
        server = engine.dialect.name != "sqlite"
        if server:
            assert levels == ["AUTOCOMMIT"]  # the SELECT alone, no BEGIN
        else:
            assert levels == [None, None]  # SQLite's deferred BEGIN, then the SELECT
        with engine.connect() as connection:
            assert connection.get_execution_options().get("isolation_level") is None
            if server:
                assert connection.connection.dbapi_connection.autocommit is False  # type: ignore[union-attr]
            connection.execute(text("CREATE TABLE lookup_probe (x INTEGER)"))
            connection.rollback()
        with engine.connect() as connection:
            assert not inspect(connection).has_table("lookup_probe")
    finally:
        engine.dispose()
