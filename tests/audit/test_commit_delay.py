"""The group commit's delay: under concurrency a batch waits a little for more events,
a lone request never waits, and the log stays whole. Through HTTP (SQLite and
PostgreSQL), the writer alone, and the configuration."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from gateway.access_record import AccessRecord
from gateway.audit.events import EventDraft, RequestFacts, outcome_draft
from gateway.audit.log import AuditLog
from gateway.audit.verify import verify_log
from gateway.audit.writer import AppendedEvent, GroupCommitWriter
from gateway.auth import scopes
from gateway.auth.principal import Role
from gateway.db import create_db_engine
from gateway.errors import ConfigError
from gateway.keys import load_keys
from tests.audit.audit_support import token_for
from tests.conftest import Gateway, prepare_deployment, serving

DELAY_MS = 400


@pytest.fixture
async def delayed(tmp_path: Path, database_url: str) -> AsyncIterator[Gateway]:
    """A gateway whose group commit waits up to DELAY_MS under concurrency."""
    config = f"[audit]\ncommit_delay_ms = {DELAY_MS}\n"
    async with serving(prepare_deployment(tmp_path / "data", database_url, config)) as gateway:
        yield gateway


async def _auditor(gateway: Gateway) -> str:
    return await token_for(gateway, Role.AUDITOR, {scopes.AUDIT_READ})


async def test_requests_arriving_apart_share_a_commit_while_others_are_under_way(
    delayed: Gateway,
) -> None:
    audit = delayed.services.audit
    assert audit is not None
    token = await _auditor(delayed)
    with contextlib.ExitStack() as others:
        for _ in range(GroupCommitWriter.COMMIT_SIBLINGS + 1):
            others.enter_context(audit.request())  # requests under way elsewhere
        sent = []
        for _ in range(3):
            sent.append(asyncio.ensure_future(delayed.graphql(token, "{ me { role } }")))
            await asyncio.sleep(0.05)  # each alone would have committed by now
        answers = await asyncio.gather(*sent)

    receipts = [answer.json()["extensions"]["audit"] for answer in answers]
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert len({receipt["timestamp"] for receipt in receipts}) == 1  # one batch, one seal time
    assert sorted(receipt["index"] for receipt in receipts) == [0, 1, 2]


async def test_concurrent_requests_under_the_delay_leave_a_whole_log(delayed: Gateway) -> None:
    audit = delayed.services.audit
    assert audit is not None
    token = await _auditor(delayed)
    answers = await asyncio.gather(*(delayed.graphql(token, "{ me { role } }") for _ in range(12)))

    assert all(answer.status_code == 200 for answer in answers)
    indices = sorted(answer.json()["extensions"]["audit"]["index"] for answer in answers)
    assert indices == list(range(12))
    audit.integrate_now()
    report = verify_log(audit.store, audit.verifier, audit.verifier.public_key)
    assert report.ok, report.problems
    assert report.total == 12


async def test_a_lone_request_does_not_wait(delayed: Gateway) -> None:
    token = await _auditor(delayed)
    started = time.monotonic()
    for _ in range(3):
        answer = await delayed.graphql(token, "{ me { role } }")
        assert answer.status_code == 200
    # Three commits, each would have waited DELAY_MS had the delay applied.
    assert time.monotonic() - started < 3 * DELAY_MS / 1000


class _Batches:
    def __init__(self) -> None:
        self.sizes: list[int] = []
        self.lock = threading.Lock()

    def __call__(self, drafts: Sequence[EventDraft]) -> list[AppendedEvent]:
        with self.lock:
            start = sum(self.sizes)
            self.sizes.append(len(drafts))
        receipt = {"index": 0, "leafHash": "", "timestamp": 0, "signature": ""}
        return [AppendedEvent(start + n, b"", receipt) for n in range(len(drafts))]  # type: ignore[arg-type]


def _draft(number: int) -> EventDraft:
    return outcome_draft(RequestFacts(request_id=f"r{number}"), AccessRecord())


async def test_a_batch_waits_only_while_enough_others_are_under_way() -> None:
    batches = _Batches()
    in_flight = 10
    writer = GroupCommitWriter(batches, in_flight=lambda: in_flight, commit_delay_s=0.3)
    first = writer.submit([_draft(0)])
    await asyncio.sleep(0.05)
    second = writer.submit([_draft(1)])
    await asyncio.gather(first, second)
    assert batches.sizes == [2]  # the second arrived during the first's wait

    in_flight = GroupCommitWriter.COMMIT_SIBLINGS  # too few others: commit at once
    third = writer.submit([_draft(2)])
    await asyncio.sleep(0.05)
    fourth = writer.submit([_draft(3)])
    await asyncio.gather(third, fourth)
    await writer.stop()
    assert batches.sizes == [2, 1, 1]


async def test_a_batch_stops_waiting_once_every_request_under_way_is_in_it() -> None:
    batches = _Batches()
    writer = GroupCommitWriter(batches, in_flight=lambda: 6, commit_delay_s=30)
    waiting = [writer.submit([_draft(n)]) for n in range(6)]
    await asyncio.wait_for(asyncio.gather(*waiting), timeout=10)  # not 30 s
    await writer.stop()
    assert sum(batches.sizes) == 6


@pytest.mark.parametrize("value", ["'fast'", "-1", "5000", "true"])
def test_a_bad_commit_delay_stops_the_gateway_from_starting(
    tmp_path: Path, database_url: str, value: str
) -> None:
    settings = prepare_deployment(
        tmp_path / "data", database_url, f"[audit]\ncommit_delay_ms = {value}\n"
    )
    engine = create_db_engine(settings.database_url)
    try:
        with pytest.raises(ConfigError, match=r"audit\.commit_delay_ms"):
            AuditLog.from_settings(settings, engine, load_keys(settings.keys_dir))
    finally:
        engine.dispose()
