"""The auditor's GraphQL API: search events, fetch one with its proof, get checkpoints.

Proofs are read from the tree's stored levels (``gateway.audit.tree_store``):
O(log n) rows whatever the size of the log.

``audit:read`` is required. An ``auditor`` sees every event; an ``agency``
client sees only the events in which its own agency was asked (DESIGN.md §7);
other roles are refused. Events are shown as logged: ``entry`` is the exact
canonical JSON the leaf hash covers, so a client can recompute it, and every
other field shown (kind, time, outcome, officer, agencies ...) is read from that
entry too. The search columns only select which events to show
(gateway.audit.projection), and each hit is checked against its entry, so
altered columns can hide an event from a search but never change what is shown.
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
from gateway.audit.merkle import leaf_hash
from gateway.audit.projection import EntryMalformed, EventProjection, project
from gateway.audit.search_filter import AuditEventFilter, event_filter
from gateway.audit.store import EventFilter, EventRow, StoredCheckpoint
from gateway.audit.subjects import SealedSubject, ciphertext_hash
from gateway.audit.tree_store import TreeStore
from gateway.auth.principal import Principal, Role
from gateway.auth.scopes import AUDIT_READ
from gateway.context import RequestContext
from gateway.db import read_connection, run_sync
from gateway.errors import BadUserInput, CredgateError, Forbidden, NotFound, ServiceUnavailable
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


@strawberry.type(description="A legal document a measure names: number and date.")
class AuditLegalDocument:
    number: str
    date: str


@strawberry.type(description="One step of a control measure, with its legal documents.")
class AuditMeasureStep:
    measure_id: str
    kind: str
    step: str = strawberry.field(
        description="ordered (the officer's order, before the agency is asked), answered "
        "(the agency's answer), reported (a later report: executed, rejected), expired."
    )
    status: str
    agency_id: str
    dataset: str
    asset_ref: str = strawberry.field(description="Keyed reference of the asset, never in clear.")
    ruling: AuditLegalDocument
    notice: AuditLegalDocument
    requested_amount: str | None
    amount: str | None
    until: str | None
    acts_on: str | None
    reference: str | None
    reason: str | None


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


@strawberry.type(description="What an operator did from the command line (credgate CLI).")
class AuditOperatorAct:
    command: str = strawberry.field(description='e.g. "list import", "clients add".')
    operator: str
    file_name: str | None
    file_sha256: str | None = strawberry.field(description="SHA-256 (hex) of the imported file.")
    accepted: int | None
    refused: int | None
    unchanged: int | None
    courts: list[str]
    client_id: str | None = strawberry.field(description="The OAuth client acted on.")


def _operator_act(data: Any) -> AuditOperatorAct | None:
    if not isinstance(data, dict):
        return None
    file, counts, client = data.get("file") or {}, data.get("counts") or {}, data.get("client")
    return AuditOperatorAct(
        command=data["command"],
        operator=data["operator"],
        file_name=file.get("name"),
        file_sha256=file.get("sha256"),
        accepted=counts.get("accepted"),
        refused=counts.get("refused"),
        unchanged=counts.get("unchanged"),
        courts=list(data.get("courts") or []),
        client_id=client.get("clientId") if isinstance(client, dict) else None,
    )


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
    measures: list[AuditMeasureStep] = strawberry.field(
        description="The control-measure steps the event records (empty for other events)."
    )
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
    operator_act: AuditOperatorAct | None = strawberry.field(
        default=None, description="For an operator's CLI act: what was done, by whom, to what."
    )


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


class AuditEntryInvalid(CredgateError):
    """A stored event's entry cannot be read: the log was tampered with."""

    code = "AUDIT_ENTRY_INVALID"

    def __init__(self, index: int) -> None:
        super().__init__(
            f"Audit event {index} cannot be read from its entry; run `credgate audit verify`."
        )


def _signed(row: EventRow) -> tuple[dict[str, Any], EventProjection]:
    """The stored entry and the search values it states."""
    try:
        data = orjson.loads(bytes(row.entry))
        signed = project(data)
    except (orjson.JSONDecodeError, AttributeError, EntryMalformed):
        raise AuditEntryInvalid(int(row.idx)) from None
    if type(data.get("index")) is not int:
        raise AuditEntryInvalid(int(row.idx))
    return data, signed


def _event(row: EventRow, subjects: list[EventRow], audit: AuditLog, reveal: bool) -> AuditEvent:
    # Everything shown comes from the entry, never from the search columns.
    data, signed = _signed(row)
    principal = data.get("principal")
    authority = data.get("authority") or {}
    operation = data.get("operation") or {}
    entry = bytes(row.entry)
    index, leaf = int(data["index"]), leaf_hash(entry)
    return AuditEvent(
        index=index,
        kind=signed.kind,
        time=datetime.fromtimestamp(signed.time_ms / 1000, UTC),
        request_id=str(data["requestId"]),
        outcome=signed.outcome,
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
        measures=[_measure_step(step) for step in data.get("measures", [])],
        subject_blind_indexes=[s["blindIndex"] for s in data.get("subjects", [])],
        subject_ids=_reveal(subjects, index, signed, audit) if reveal else None,
        entry=entry.decode("utf-8"),
        leaf_hash=encode_base64(leaf),
        receipt=AuditReceipt(
            index=index,
            leaf_hash=encode_base64(leaf),
            timestamp=str(signed.time_ms),
            signature=encode_base64(bytes(row.receipt_signature)),
        ),
        proof=None,
        operator_act=_operator_act(data.get("operatorAct")),
    )


def _measure_step(step: dict[str, Any]) -> AuditMeasureStep:
    ruling, notice = step.get("ruling") or {}, step.get("notice") or {}
    return AuditMeasureStep(
        measure_id=step["measureId"],
        kind=step["kind"],
        step=step["step"],
        status=step["status"],
        agency_id=step["agencyId"],
        dataset=step["dataset"],
        asset_ref=step["assetRef"],
        ruling=AuditLegalDocument(number=ruling.get("number", ""), date=ruling.get("date", "")),
        notice=AuditLegalDocument(number=notice.get("number", ""), date=notice.get("date", "")),
        requested_amount=step.get("requestedAmount"),
        amount=step.get("amount"),
        until=step.get("until"),
        acts_on=step.get("actsOn"),
        reference=step.get("reference"),
        reason=step.get("reason"),
    )


def _reveal(
    subjects: list[EventRow], index: int, signed: EventProjection, audit: AuditLog
) -> list[str]:
    # Only the ciphertext the entry commits to is opened, at its own position.
    committed = {c.position: c.ciphertext_hash for c in signed.subjects}
    revealed = []
    for row in subjects:
        ciphertext, position = bytes(row.ciphertext), int(row.position)
        if int(row.event_idx) != index or committed.get(position) != ciphertext_hash(ciphertext):
            continue
        sealed = SealedSubject(str(row.blind_index), str(row.key_id), ciphertext)
        value = audit.cipher.open(sealed, index, position)
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


def _load_one(audit: AuditLog, index: int, agency: str | None) -> tuple[EventRow, list[EventRow]]:
    where = EventFilter(agency_id=agency)
    rows = audit.store.search(where, index - 1, 1)
    # An agency's confinement is checked against the entry too, not its copies alone.
    if not rows or int(rows[0].idx) != index or not where.admits(_signed(rows[0])[1]):
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
        where = event_filter(filter, audit.cipher, agency)
        rows = await run_sync(audit.store.search, where, _after(after), first + 1)
        page = rows[:first]
        # A hit whose entry does not match is shown in no search (its copies were altered).
        hits = [row for row in page if where.admits(_signed(row)[1])]
        subjects = await run_sync(audit.store.subjects, [int(r.idx) for r in hits])
        edges = [
            AuditEventEdge(cursor=_cursor(int(r.idx)), node=_event(r, subjects, audit, not agency))
            for r in hits
        ]
        return AuditEventConnection(
            edges=edges,
            page_info=AuditPageInfo(
                has_next_page=len(rows) > first,
                # The last row read, shown or not, so that paging always moves on.
                end_cursor=_cursor(int(page[-1].idx)) if page else None,
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
