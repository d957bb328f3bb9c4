"""The audit log's parts: linear-time proofs, subject sealing, export, integrator."""

from __future__ import annotations

import asyncio
import io
import os

import pytest
from sqlalchemy import update

from gateway.access_record import AccessRecord
from gateway.audit.errors import AuditError, ProofError
from gateway.audit.events import EventDraft, RequestFacts, outcome_draft
from gateway.audit.export import export_events, verify_export
from gateway.audit.integrator import IntegrityFailure
from gateway.audit.log import AuditLog
from gateway.audit.merkle import inclusion_proof, leaf_hash
from gateway.audit.proofs import TreeLevels
from gateway.audit.store import audit_events
from gateway.audit.subjects import SubjectCipher
from gateway.audit.verify import verify_log


def test_tree_levels_give_the_same_proofs_as_merkle() -> None:
    for size in range(1, 40):
        leaves = [leaf_hash(bytes([n])) for n in range(size)]
        levels = TreeLevels(leaves)
        for index in range(size):
            assert levels.inclusion_proof(index) == inclusion_proof(leaves, index, size)


def test_a_subject_decrypts_only_where_it_was_logged() -> None:
    cipher = SubjectCipher(os.urandom(32), os.urandom(32))
    sealed = cipher.seal("41082319900101123x", index=7, position=0)
    assert sealed.blind_index == cipher.blind_index(" 41082319900101123X ")
    assert cipher.open(sealed, 7, 0) == "41082319900101123X"
    assert cipher.open(sealed, 8, 0) is None  # moved to another event
    assert cipher.open(sealed, 7, 1) is None  # or another position
    other = SubjectCipher(os.urandom(32), os.urandom(32))
    assert other.blind_index("41082319900101123X") != sealed.blind_index


def _append(audit: AuditLog, count: int) -> None:
    for number in range(count):
        record = AccessRecord(subjects=[f"4108231985071423{number:02d}"])
        audit.append_blocking([outcome_draft(RequestFacts(request_id=f"r{number}"), record)])


def test_an_export_verifies_offline(audit: AuditLog) -> None:
    _append(audit, 9)
    audit.integrate_now()
    _append(audit, 2)  # not covered by a checkpoint yet: receipts only
    out = io.StringIO()
    assert export_events(audit.store, audit.verifier, None, None, out) == 11
    lines = out.getvalue().splitlines()
    assert verify_export(lines, audit.verifier) == 9
    tampered = lines[4].replace('"kind\\":\\"outcome', '"kind\\":\\"intent')
    assert tampered != lines[4]
    with pytest.raises(AuditError, match="entry 3"):
        verify_export([*lines[:4], tampered, *lines[5:]], audit.verifier)


def test_destroying_the_data_key_leaves_every_proof_valid(audit: AuditLog) -> None:
    _append(audit, 5)
    audit.integrate_now()
    # End of retention: the subject key is gone (here: a new one); the ciphertexts
    # no longer open, yet the leaves commit only to their hashes.
    audit.cipher = SubjectCipher(os.urandom(32), os.urandom(32))
    report = verify_log(audit.store, audit.verifier, audit.verifier.public_key)
    assert report.ok
    assert report.valid == 5


def test_the_integrator_refuses_to_sign_over_a_modified_event(audit: AuditLog) -> None:
    _append(audit, 3)
    audit.integrate_now()
    _append(audit, 2)
    with audit.store.engine.begin() as connection:
        connection.execute(
            update(audit_events).where(audit_events.c.idx == 4).values(entry=b'{"v":1}')
        )
    with pytest.raises(IntegrityFailure, match="event 4"):
        audit.integrate_now()
    assert [c.size for c in audit.store.checkpoints()] == [3]


async def test_background_integration_follows_new_events(audit: AuditLog) -> None:
    audit.integrator.interval_s = 0.05
    await audit.start()
    try:
        await audit.append([outcome_draft(RequestFacts(request_id="r"), AccessRecord())])
        for _ in range(200):  # bounded: at most a few seconds
            if audit.store.latest_checkpoint() is not None:
                break
            await asyncio.sleep(0.02)
        latest = audit.store.latest_checkpoint()
        assert latest is not None
        assert latest.size == 1
    finally:
        await audit.stop()


async def test_background_integration_runs_at_most_one_round_per_interval(audit: AuditLog) -> None:
    # A round per commit would hold the write lock after every request's append and
    # make the next request's audit append queue behind it.
    audit.integrator.interval_s = 30.0
    draft = outcome_draft(RequestFacts(request_id="r"), AccessRecord())
    await audit.start()
    try:
        await audit.append([draft])
        for _ in range(200):  # bounded: the first events are covered at once
            if audit.store.latest_checkpoint() is not None:
                break
            await asyncio.sleep(0.02)
        for _ in range(5):
            await audit.append([draft])
            await asyncio.sleep(0.05)
        assert [c.size for c in audit.store.checkpoints()] == [1]
    finally:
        await audit.stop()
    # Stopping finishes with a round that covers everything committed.
    assert [c.size for c in audit.store.checkpoints()] == [1, 6]


def test_verify_export_rejects_a_proof_for_another_tree(audit: AuditLog) -> None:
    _append(audit, 4)
    audit.integrate_now()
    out = io.StringIO()
    export_events(audit.store, audit.verifier, None, None, out)
    lines = out.getvalue().splitlines()
    wrong = lines[2].replace('"treeSize":4', '"treeSize":3')
    with pytest.raises(ProofError):
        verify_export([lines[0], wrong], audit.verifier)


def test_an_event_kind_or_outcome_auditors_cannot_filter_by_is_refused() -> None:
    with pytest.raises(ValueError, match="EVENT_KINDS"):
        EventDraft("import", {"outcome": "ok"})
    with pytest.raises(ValueError, match="EVENT_OUTCOMES"):
        EventDraft("outcome", {"outcome": "partial"})
