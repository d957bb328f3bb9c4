"""``auditProof`` and ``auditConsistencyProof`` over HTTP, answered from the stored levels.

What a witness does (DESIGN.md §7): keep a checkpoint, later fetch a newer one
with a consistency proof from the kept size, and verify both, trusting only the
log's verifier key; and prove an event's inclusion against a signed checkpoint.
"""

from __future__ import annotations

from typing import Any

from gateway.audit.canonical import decode_base64
from gateway.audit.checkpoint import open_checkpoint
from gateway.audit.merkle import (
    leaf_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)
from tests.audit.audit_support import ME, audit_log, auditor_token, officer_token, probe_gateway
from tests.audit.test_audit_tree import fill
from tests.conftest import Gateway

__all__ = ["probe_gateway"]

PROOF = """query Proof($index: Int!) {
  auditProof(index: $index) { index treeSize leafHash hashes checkpoint }
  auditEvent(index: $index) { entry }
}"""
CONSISTENCY = """query Consistency($from: Int!, $to: Int) {
  auditConsistencyProof(fromSize: $from, toSize: $to) { fromSize toSize hashes checkpoint }
}"""

FIRST_THREE = "{ auditEvents(first: 3) { edges { node { entry } } } }"


async def _data(gateway: Gateway, token: str, query: str, **variables: Any) -> Any:
    response = await gateway.graphql(token, query, variables)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def test_inclusion_and_consistency_proofs_verify_against_signed_checkpoints(
    probe_gateway: Gateway,
) -> None:
    log = audit_log(probe_gateway)
    officer = await officer_token(probe_gateway)
    await probe_gateway.graphql(officer, ME)
    fill(log, 40, start=1000)
    assert log.integrate_now()
    auditor = await auditor_token(probe_gateway)
    kept = (await _data(probe_gateway, auditor, "{ auditCheckpoint { note } }"))["auditCheckpoint"]
    old = open_checkpoint(kept["note"], log.verifier)
    fill(log, 29, start=2000)
    assert log.integrate_now()

    for index in (0, 17, old.size - 1, old.size + 5):
        data = await _data(probe_gateway, auditor, PROOF, index=index)
        proof = data["auditProof"]
        checkpoint = open_checkpoint(proof["checkpoint"], log.verifier)
        assert (proof["index"], proof["treeSize"]) == (index, checkpoint.size)
        # The leaf is rebuilt from the event, never taken from the proof.
        leaf = leaf_hash(data["auditEvent"]["entry"].encode("utf-8"))
        assert decode_base64(proof["leafHash"]) == leaf
        path = [decode_base64(h) for h in proof["hashes"]]
        verify_inclusion(leaf, index, checkpoint.size, path, checkpoint.root_hash)

    data = await _data(probe_gateway, auditor, CONSISTENCY, **{"from": old.size})
    proof = data["auditConsistencyProof"]
    new = open_checkpoint(proof["checkpoint"], log.verifier)
    assert (proof["fromSize"], proof["toSize"]) == (old.size, new.size)
    assert new.size > old.size
    hashes = [decode_base64(h) for h in proof["hashes"]]
    verify_consistency(old.size, new.size, hashes, old.root_hash, new.root_hash)
    # To an earlier checkpoint by its size, and from any size below it.
    data = await _data(probe_gateway, auditor, CONSISTENCY, **{"from": 3, "to": old.size})
    earlier = data["auditConsistencyProof"]
    hashes = [decode_base64(h) for h in earlier["hashes"]]
    assert open_checkpoint(earlier["checkpoint"], log.verifier) == old
    first = await _data(probe_gateway, auditor, FIRST_THREE)
    entries = [edge["node"]["entry"] for edge in first["auditEvents"]["edges"]]
    root3 = root_from_leaf_hashes([leaf_hash(entry.encode("utf-8")) for entry in entries])
    verify_consistency(3, old.size, hashes, root3, old.root_hash)


async def test_consistency_proof_refuses_sizes_it_cannot_prove(probe_gateway: Gateway) -> None:
    auditor = await auditor_token(probe_gateway)
    empty = await probe_gateway.graphql(auditor, CONSISTENCY, {"from": 1})
    assert empty.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    log = audit_log(probe_gateway)
    fill(log, 10)
    assert log.integrate_now()
    size = log.store.latest_checkpoint().size  # type: ignore[union-attr]
    for variables, code in (
        ({"from": 0}, "BAD_USER_INPUT"),
        ({"from": size + 1}, "BAD_USER_INPUT"),
        ({"from": 1, "to": size + 100}, "NOT_FOUND"),
    ):
        response = await probe_gateway.graphql(auditor, CONSISTENCY, variables)
        errors = response.json()["errors"]
        assert errors[0]["extensions"]["code"] == code, errors
