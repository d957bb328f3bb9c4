"""The group-commit writer: shared transactions, fail closed, stop and restart."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import pytest
from sqlalchemy import text

from gateway.access_record import AccessRecord
from gateway.audit.events import EventDraft, RequestFacts, outcome_draft
from gateway.audit.log import AuditLog
from gateway.audit.store import HeldAppender
from gateway.audit.writer import AppendedEvent, AuditUnavailable, GroupCommitWriter


def _draft(number: int) -> EventDraft:
    return outcome_draft(RequestFacts(request_id=f"r{number}"), AccessRecord())


class _Gate:
    """A commit function that holds its first batch until released, recording batches."""

    def __init__(self) -> None:
        self.batches: list[int] = []
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self, drafts: Sequence[EventDraft]) -> list[AppendedEvent]:
        self.entered.set()
        self.release.wait(timeout=10)
        start = sum(self.batches)
        self.batches.append(len(drafts))
        return [
            AppendedEvent(
                start + n, b"", {"index": 0, "leafHash": "", "timestamp": 0, "signature": ""}
            )
            for n in range(len(drafts))
        ]


async def test_requests_arriving_during_a_commit_share_the_next_one() -> None:
    gate = _Gate()
    writer = GroupCommitWriter(gate)
    first = asyncio.ensure_future(writer.append([_draft(0)]))
    await asyncio.to_thread(gate.entered.wait, 10)
    rest = [asyncio.ensure_future(writer.append([_draft(n)])) for n in range(1, 6)]
    await asyncio.sleep(0.05)
    gate.release.set()
    results = await asyncio.gather(first, *rest)
    await writer.stop()

    assert gate.batches == [1, 5]
    assert [events[0].index for events in results] == [0, 1, 2, 3, 4, 5]


async def test_a_failed_commit_fails_every_request_in_it_and_the_next_batch_still_commits() -> None:
    calls = 0

    def flaky(drafts: Sequence[EventDraft]) -> list[AppendedEvent]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("disk full")
        return [
            AppendedEvent(n, b"", {"index": n, "leafHash": "", "timestamp": 0, "signature": ""})
            for n in range(len(drafts))
        ]

    writer = GroupCommitWriter(flaky)
    with pytest.raises(AuditUnavailable):
        await writer.append([_draft(0)])
    assert writer.last_error == "RuntimeError"
    (event,) = await writer.append([_draft(1)])
    assert event.index == 0
    assert writer.last_error is None
    await writer.stop()


async def test_a_cancelled_caller_does_not_disturb_the_others() -> None:
    gate = _Gate()
    writer = GroupCommitWriter(gate)
    first = asyncio.ensure_future(writer.append([_draft(0)]))
    await asyncio.to_thread(gate.entered.wait, 10)
    abandoned = asyncio.ensure_future(writer.append([_draft(1)]))
    kept = asyncio.ensure_future(writer.append([_draft(2)]))
    await asyncio.sleep(0.01)
    abandoned.cancel()
    gate.release.set()
    await first
    (event,) = await kept
    await writer.stop()
    # The abandoned draft was still committed: an event, once queued, is never dropped.
    assert gate.batches == [1, 2]
    assert event.index == 2


async def test_stop_commits_what_is_queued_and_a_later_append_starts_again(audit: AuditLog) -> None:
    waiting = [asyncio.ensure_future(audit.append([_draft(n)])) for n in range(20)]
    await asyncio.sleep(0)
    await audit.stop()
    indices = sorted(events[0].index for events in await asyncio.gather(*waiting))
    assert indices == list(range(20))
    assert not [t for t in threading.enumerate() if t.name == "audit-writer"]

    (event,) = await audit.append([_draft(20)])
    assert event.index == 20
    await audit.stop()
    assert audit.store.next_index() == 21


def test_appends_from_two_event_loops_share_one_log(audit: AuditLog) -> None:
    async def append(number: int) -> int:
        (event,) = await audit.append([_draft(number)])
        return event.index

    first = asyncio.run(append(0))
    second = asyncio.run(append(1))  # a new loop: receipts go to the loop that waits
    assert (first, second) == (0, 1)
    asyncio.run(audit.stop())


async def test_submit_queues_at_once_so_the_commit_runs_while_the_caller_works() -> None:
    gate = _Gate()
    writer = GroupCommitWriter(gate)
    committed = writer.submit([_draft(0)])
    # No await in between: the committer thread has the drafts already.
    assert gate.entered.wait(timeout=10)
    gate.release.set()
    (event,) = await committed
    assert event.index == 0
    await writer.stop()


async def test_the_committer_connection_is_replaced_after_a_refused_batch(audit: AuditLog) -> None:
    (first,) = await audit.append([_draft(0)])
    engine = audit.store.engine
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE audit_subjects RENAME TO audit_subjects_away"))
    record = AccessRecord(subjects=["410882199201038052"])
    refused = audit.append([outcome_draft(RequestFacts(request_id="r-refused"), record)])
    with pytest.raises(AuditUnavailable):
        await refused
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE audit_subjects_away RENAME TO audit_subjects"))

    (after,) = await audit.append([outcome_draft(RequestFacts(request_id="r-after"), record)])
    await audit.stop()
    # The refused batch left nothing behind: its index went to the next event.
    assert (first.index, after.index) == (0, 1)
    assert audit.store.next_index() == 2


async def test_a_committer_connection_the_server_dropped_is_replaced(
    audit: AuditLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = audit.store.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("only a database server drops connections")
    monkeypatch.setattr(HeldAppender, "PING_AFTER_S", 0.0)
    (first,) = await audit.append([_draft(0)])
    held = audit._appender._connection  # the committer's own connection
    backend = held.dbapi_connection.info.backend_pid
    with engine.begin() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})

    (after,) = await audit.append([_draft(1)])
    await audit.stop()
    assert (first.index, after.index) == (0, 1)
