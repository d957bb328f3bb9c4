"""The auditor's GraphQL API: search events, fetch one with its proof, get checkpoints.

Proofs are read from the tree's stored levels (``gateway.audit.tree_store``):
O(log n) rows whatever the size of the log.

``audit:read`` is required. An ``auditor`` sees every event; an ``agency``
client sees only the events in which its own agency was asked (DESIGN.md §7);
other roles are refused. Events are shown as logged: ``entry`` is the exact
canonical JSON the leaf hash covers, so a client can recompute it.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import orjson
import strawberry
from sqlalchemy.engine import Connection
from strawberry.types import Info

from gateway.audit.canonical import encode_base64
from gateway.audit.errors import TreeStateError
from gateway.audit.log import AuditLog
from gateway.audit.store import EventFilter, EventRow, StoredCheckpoint
from gateway.audit.subjects import SealedSubject
from gateway.audit.tree_store import TreeStore
from gateway.auth.principal import Principal, Role
from gateway.auth.scopes import AUDIT_READ
from gateway.context import RequestContext
from gateway.db import read_connection, run_sync
from gateway.errors import BadUserInput, Forbidden, NotFound, ServiceUnavailable
from gateway.schema.permissions import requires_scope

MAX_PAGE = 200


@strawberry.type(description="A receipt: the audit key's signature over index, time and leaf.")
class AuditReceipt:
    index: int
    leaf_hash: str
    # GraphQL's Int is 32 bits; Unix milliseconds need more, so a decimal string.
    timestamp: str = strawberry.field(description="Unix milliseconds, as a decimal string.")
    signature: str


@strawberry.type(description="Who made the request, as its access token said.")
class AuditPrincipal:
    subject: str
    client_id: str
    role: str
    court_id: str | None
    agency_id: str | None
    officer_id: str | None


@strawberry.type(description="One agency asked: how it answered.")
class AuditAgencyCall:
    agency_id: str
    datasets: list[str]
    outcome: str
    latency_ms: int | None
    records: int
    response_digest: str | None


@strawberry.type(description="The decision on one requested field and the policies behind it.")
class AuditFieldDecision:
    agency_kind: str
    dataset: str
    name: str
    outcome: str
    policy_ids: list[str]


@strawberry.type(description="The fields an operation selected from one dataset, before policy.")
class AuditRequestedDataset:
    dataset: str
    fields: list[str]


@strawberry.type(description="An RFC 9162 inclusion proof against a signed checkpoint.")
class AuditInclusionProof:
    index: int
    tree_size: int
    leaf_hash: str
    hashes: list[str]
    checkpoint: str = strawberry.field(description="The signed note (C2SP checkpoint).")


@strawberry.type(
    description="An RFC 9162 consistency proof: the tree of `toSize` leaves extends the "
    "one of `fromSize`."
)
class AuditConsistencyProof:
    from_size: int
    to_size: int
    hashes: list[str]
    checkpoint: str = strawberry.field(description="The signed note of `toSize` (C2SP).")


@strawberry.type(description="The latest signed checkpoint, for witnesses.")
class AuditCheckpoint:
    size: int
    root_hash: str
    note: str
    verifier_key: str


@strawberry.type(description="One audit event.")
class AuditEvent:
    index: int
    kind: str
    time: datetime
    request_id: str
    outcome: str
    principal: AuditPrincipal | None
    auth_failure: str | None
    operation_name: str | None
    operation_kind: str | None
    document_hash: str | None
    case_number: str | None
    court_id: str | None
    document: str | None
    requested: list[AuditRequestedDataset] = strawberry.field(
        description="What the operation asked for (the intent says it before any agency is "
        "asked); the agencies asked and each field's decision are the outcome's."
    )
    agencies: list[AuditAgencyCall]
    fields: list[AuditFieldDecision]
    policy_set_hash: str | None
    error_codes: list[str]
    refused: str | None
    subject_blind_indexes: list[str]
    subject_ids: list[str] | None = strawberry.field(
        description="The subjects in clear (auditors only; null once the data key is destroyed)."
    )
    entry: str = strawberry.field(description="The canonical JSON the leaf hash covers.")
    leaf_hash: str
    receipt: AuditReceipt
    proof: AuditInclusionProof | None = strawberry.field(
        description="Inclusion proof; only on auditEvent, once a checkpoint covers the event."
    )


@strawberry.input(description="Narrows auditEvents; every field given must match.")
class AuditEventFilter:
    subject_id: str | None = None
    officer_id: str | None = None
    court_id: str | None = None
    case_number: str | None = None
    agency_id: str | None = None
    outcome: str | None = None
    kind: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@strawberry.type
class AuditEventEdge:
    cursor: str
    node: AuditEvent


@strawberry.type
class AuditPageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class AuditEventConnection:
    edges: list[AuditEventEdge]
    page_info: AuditPageInfo


def _audit_log(info: Info[RequestContext, None]) -> AuditLog:
    audit = info.context.services.audit
    if audit is None:
        raise ServiceUnavailable("The audit log is not configured.")
    return audit


def _scope_agency(principal: Principal) -> str | None:
    """The agency an agency client is confined to; ``None`` for auditors."""
    if principal.role is Role.AUDITOR:
        return None
    if principal.role is Role.AGENCY and principal.agency_id:
        return principal.agency_id
    raise Forbidden("Only auditors and agencies may read the audit log.")


def _millis(value: datetime | None) -> int | None:
    if value is None:
        return None
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return int(aware.timestamp() * 1000)


def _cursor(index: int) -> str:
    return base64.urlsafe_b64encode(f"audit:{index}".encode()).decode("ascii")


def _after(cursor: str | None) -> int:
    if cursor is None:
        return -1
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii")
        prefix, _, number = text.partition(":")
        if prefix != "audit":
            raise ValueError(prefix)
        return int(number)
    except ValueError:
        raise BadUserInput("Unknown cursor.", field="after") from None


def _event(row: EventRow, subjects: list[EventRow], audit: AuditLog, reveal: bool) -> AuditEvent:
    data: dict[str, Any] = orjson.loads(bytes(row.entry))
    principal = data.get("principal")
    authority = data.get("authority") or {}
    operation = data.get("operation") or {}
    index, leaf = int(row.idx), bytes(row.leaf_hash)
    return AuditEvent(
        index=index,
        kind=str(row.kind),
        time=datetime.fromtimestamp(int(row.time_ms) / 1000, UTC),
        request_id=str(row.request_id),
        outcome=str(row.outcome),
        principal=AuditPrincipal(
            subject=principal["subject"],
            client_id=principal["clientId"],
            role=principal["role"],
            court_id=principal.get("courtId"),
            agency_id=principal.get("agencyId"),
            officer_id=principal.get("officerId"),
        )
        if principal
        else None,
        auth_failure=data.get("authFailure"),
        operation_name=operation.get("name"),
        operation_kind=operation.get("kind"),
        document_hash=operation.get("documentHash"),
        case_number=authority.get("caseNumber"),
        court_id=authority.get("courtId"),
        document=authority.get("document"),
        requested=[
            AuditRequestedDataset(dataset=name, fields=list(names))
            for name, names in sorted((data.get("requested") or {}).items())
        ],
        agencies=[
            AuditAgencyCall(
                agency_id=call["agencyId"],
                datasets=sorted(call.get("datasets") or {}),
                outcome=call["outcome"],
                latency_ms=call.get("latencyMs"),
                records=call.get("records", 0),
                response_digest=call.get("responseDigest"),
            )
            for call in data.get("agencies", [])
        ],
        fields=[
            AuditFieldDecision(
                agency_kind=f["agencyKind"],
                dataset=f["dataset"],
                name=f["name"],
                outcome=f["outcome"],
                policy_ids=list(f.get("policyIds", [])),
            )
            for f in data.get("fields", [])
        ],
        policy_set_hash=data.get("policySetHash"),
        error_codes=list(data.get("errorCodes", [])),
        refused=data.get("refused"),
        subject_blind_indexes=[s["blindIndex"] for s in data.get("subjects", [])],
        subject_ids=_reveal(subjects, index, audit) if reveal else None,
        entry=bytes(row.entry).decode("utf-8"),
        leaf_hash=encode_base64(leaf),
        receipt=AuditReceipt(
            index=index,
            leaf_hash=encode_base64(leaf),
            timestamp=str(int(row.time_ms)),
            signature=encode_base64(bytes(row.receipt_signature)),
        ),
        proof=None,
    )


def _reveal(subjects: list[EventRow], index: int, audit: AuditLog) -> list[str]:
    revealed = []
    for row in subjects:
        if int(row.event_idx) != index:
            continue
        sealed = SealedSubject(str(row.blind_index), str(row.key_id), bytes(row.ciphertext))
        value = audit.cipher.open(sealed, index, int(row.position))
        if value is not None:
            revealed.append(value)
    return revealed


def _proof(audit: AuditLog, index: int) -> AuditInclusionProof | None:
    # One read transaction: the checkpoint and the nodes of its tree.
    with read_connection(audit.store.engine) as connection:
        latest = audit.store.latest_checkpoint(connection)
        if latest is None or index >= latest.size:
            return None
        try:
            leaf, path = TreeStore(audit.store.engine).inclusion_proof(
                index, latest.size, connection
            )
        except TreeStateError as error:
            raise _tree_unavailable(error) from error
    return AuditInclusionProof(
        index=index,
        tree_size=latest.size,
        leaf_hash=encode_base64(leaf),
        hashes=[encode_base64(h) for h in path],
        checkpoint=latest.note,
    )


def _consistency(audit: AuditLog, from_size: int, to_size: int | None) -> AuditConsistencyProof:
    with read_connection(audit.store.engine) as connection:
        checkpoint = _checkpoint_of(audit, to_size, connection)
        if not 1 <= from_size <= checkpoint.size:
            raise BadUserInput(
                f"'fromSize' must be 1 to {checkpoint.size}, the size of the later tree.",
                field="fromSize",
            )
        tree = TreeStore(audit.store.engine)
        try:
            path = tree.consistency_proof(from_size, checkpoint.size, connection)
        except TreeStateError as error:
            raise _tree_unavailable(error) from error
    return AuditConsistencyProof(
        from_size=from_size,
        to_size=checkpoint.size,
        hashes=[encode_base64(h) for h in path],
        checkpoint=checkpoint.note,
    )


def _checkpoint_of(audit: AuditLog, size: int | None, connection: Connection) -> StoredCheckpoint:
    store = audit.store
    checkpoint = (
        store.latest_checkpoint(connection) if size is None else store.checkpoint(size, connection)
    )
    if checkpoint is None:
        raise NotFound("No signed checkpoint yet." if size is None else f"No checkpoint {size}.")
    return checkpoint


def _tree_unavailable(error: TreeStateError) -> ServiceUnavailable:
    # An integrity problem for the operator (`credgate audit verify` names it),
    # not something the auditor can correct.
    return ServiceUnavailable(f"The audit log cannot prove this now: {error.reason}.")


def _filter(where: AuditEventFilter | None, audit: AuditLog, agency: str | None) -> EventFilter:
    where = where or AuditEventFilter()
    if agency is not None and where.agency_id not in (None, agency):
        raise Forbidden("An agency sees only the events in which it was asked.")
    return EventFilter(
        blind_index=audit.cipher.blind_index(where.subject_id) if where.subject_id else None,
        officer_id=where.officer_id,
        court_id=where.court_id,
        case_number=where.case_number,
        agency_id=agency or where.agency_id,
        outcome=where.outcome,
        kind=where.kind,
        since_ms=_millis(where.since),
        until_ms=_millis(where.until),
    )


def _load_one(audit: AuditLog, index: int, agency: str | None) -> tuple[EventRow, list[EventRow]]:
    rows = audit.store.search(EventFilter(agency_id=agency), index - 1, 1)
    if not rows or int(rows[0].idx) != index:
        raise NotFound(f"No audit event {index}.")
    return rows[0], audit.store.subjects([index])


@strawberry.type
class AuditQuery:
    @strawberry.field(
        description="Search the audit log, oldest first (cursor pagination).",
        permission_classes=[requires_scope(AUDIT_READ)],
    )
    async def audit_events(
        self,
        info: Info[RequestContext, None],
        filter: AuditEventFilter | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> AuditEventConnection:
        agency = _scope_agency(info.context.principal)
        if not 1 <= first <= MAX_PAGE:
            raise BadUserInput(f"'first' must be 1 to {MAX_PAGE}.", field="first")
        audit = _audit_log(info)
        where = _filter(filter, audit, agency)
        rows = await run_sync(audit.store.search, where, _after(after), first + 1)
        page = rows[:first]
        subjects = await run_sync(audit.store.subjects, [int(r.idx) for r in page])
        edges = [
            AuditEventEdge(cursor=_cursor(int(r.idx)), node=_event(r, subjects, audit, not agency))
            for r in page
        ]
        return AuditEventConnection(
            edges=edges,
            page_info=AuditPageInfo(
                has_next_page=len(rows) > first,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )

    @strawberry.field(
        description="One audit event, with its inclusion proof once a checkpoint covers it.",
        permission_classes=[requires_scope(AUDIT_READ)],
    )
    async def audit_event(self, info: Info[RequestContext, None], index: int) -> AuditEvent:
        agency = _scope_agency(info.context.principal)
        audit = _audit_log(info)
        row, subjects = await run_sync(_load_one, audit, index, agency)
        event = _event(row, subjects, audit, not agency)
        event.proof = await run_sync(_proof, audit, index)
        return event

    @strawberry.field(
        description="An inclusion proof of event `index` in the latest signed checkpoint.",
        permission_classes=[requires_scope(AUDIT_READ)],
    )
    async def audit_proof(
        self, info: Info[RequestContext, None], index: int
    ) -> AuditInclusionProof | None:
        agency = _scope_agency(info.context.principal)
        audit = _audit_log(info)
        await run_sync(_load_one, audit, index, agency)
        return await run_sync(_proof, audit, index)

    @strawberry.field(
        description="A consistency proof from the tree of `fromSize` leaves (a checkpoint a "
        "witness kept) to checkpoint `toSize` (by default the latest).",
        permission_classes=[requires_scope(AUDIT_READ)],
    )
    async def audit_consistency_proof(
        self, info: Info[RequestContext, None], from_size: int, to_size: int | None = None
    ) -> AuditConsistencyProof:
        _scope_agency(info.context.principal)
        audit = _audit_log(info)
        return await run_sync(_consistency, audit, from_size, to_size)

    @strawberry.field(
        description="The latest signed checkpoint and the key that verifies it.",
        permission_classes=[requires_scope(AUDIT_READ)],
    )
    async def audit_checkpoint(self, info: Info[RequestContext, None]) -> AuditCheckpoint | None:
        _scope_agency(info.context.principal)
        audit = _audit_log(info)
        latest = await run_sync(audit.store.latest_checkpoint)
        if latest is None:
            return None
        return AuditCheckpoint(
            size=latest.size,
            root_hash=encode_base64(latest.root_hash),
            note=latest.note,
            verifier_key=audit.verifier.vkey,
        )
