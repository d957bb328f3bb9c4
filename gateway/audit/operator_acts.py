"""Audit events for what operators do from the command line: bulk imports, OAuth clients.

A GraphQL mutation is on record because the endpoint appends its event before
the answer leaves; a CLI write must be too, or a bulk import would change the
list and the cases with no trace. An operator act is an ordinary audit event of
schema version 1 (gateway.audit.events): the same keys, sealed and hashed by the
same code, so every projection column (principal, court, outcome) is derived
from the signed entry exactly as for a request. It adds one key::

    operatorAct    {command, operator, file: {name, sha256, bytes} or null,
                    counts: {accepted, refused, unchanged} or null,
                    courts: [court id, ...], client: {clientId, role, courtId,
                    agencyId, officerId, scopes, disabled} or null}

The principal is the operator: ``role`` "operator", ``clientId`` "credgate-cli",
``subject`` the name given with ``--operator`` (default: the OS user). An import
writes an *intent* before it touches the database and an *outcome* with its
counts after; if the intent cannot be made durable, nothing is imported.
"""

from __future__ import annotations

import getpass
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from gateway.audit.events import SCHEMA_VERSION, EventDraft
from gateway.audit.log import AuditLog
from gateway.audit.writer import AppendedEvent
from gateway.errors import ServiceUnavailable
from gateway.keys import KeySet
from gateway.settings import Settings

__all__ = [
    "CLI_CLIENT_ID",
    "OPERATOR_ROLE",
    "ImportCounts",
    "OperatorAct",
    "OperatorActNotRecorded",
    "OperatorAudit",
    "default_operator",
    "file_digest",
]

#: The client id and role operator acts are recorded under.
CLI_CLIENT_ID = "credgate-cli"
OPERATOR_ROLE = "operator"


class OperatorActNotRecorded(ServiceUnavailable):
    """The audit log could not record an operator act; the command fails."""

    code = "AUDIT_UNAVAILABLE"


def default_operator() -> str:
    """The OS user running the command, the operator unless ``--operator`` says otherwise."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        # No passwd entry (some containers): the act is still on record, as "unknown".
        return "unknown"


@dataclass(frozen=True)
class FileFacts:
    """The file an import read: its name, SHA-256 and size."""

    name: str
    sha256: str
    size: int


def file_digest(path: Path) -> FileFacts:
    """SHA-256 of a file, read in blocks (an import file may be large)."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return FileFacts(path.name, digest.hexdigest(), size)


@dataclass(frozen=True)
class ImportCounts:
    """What an import did with the lines it read."""

    accepted: int
    refused: int
    unchanged: int


@dataclass(frozen=True)
class OperatorAct:
    """One operator act, as the audit log records it.

    Attributes:
        command: The CLI command, e.g. ``"list import"``.
        operation: Its name in the log's ``operation`` field, e.g. ``"listImport"``.
        operator: Who ran it.
        file: The file an import read.
        counts: An import's counts (the outcome only).
        courts: The courts the act concerns; one court also becomes the
            event's court (``authority.courtId``), which auditors filter on.
        client: The OAuth client an act on clients concerns (never its secret).
        errors: Error codes, when the act failed.
    """

    command: str
    operation: str
    operator: str
    file: FileFacts | None = None
    counts: ImportCounts | None = None
    courts: Sequence[str] = ()
    client: dict[str, Any] | None = None
    errors: Sequence[str] = field(default=())

    def draft(self, kind: str, request_id: str) -> EventDraft:
        """The event of this act: ``kind`` "intent" (before) or "outcome" (after)."""
        courts = sorted(set(self.courts))
        authority = (
            {"caseNumber": None, "courtId": courts[0], "document": None}
            if len(courts) == 1
            else None
        )
        refused = self.counts.refused if self.counts else 0
        failed = bool(self.errors) or refused > 0
        outcome = "pending" if kind == "intent" else ("error" if failed else "ok")
        body: dict[str, Any] = {
            "v": SCHEMA_VERSION,
            "kind": kind,
            "requestId": request_id,
            "principal": {
                "subject": self.operator,
                "clientId": CLI_CLIENT_ID,
                "role": OPERATOR_ROLE,
                "courtId": None,
                "agencyId": None,
                "officerId": None,
            },
            "authFailure": None,
            "operation": {"name": self.operation, "kind": self.operation, "documentHash": None},
            "authority": authority,
            "requested": {},
            "agencies": [],
            "fields": [],
            "policySetHash": None,
            "errorCodes": list(self.errors),
            "refused": None,
            "outcome": outcome,
            "operatorAct": {
                "command": self.command,
                "operator": self.operator,
                "file": None
                if self.file is None
                else {"name": self.file.name, "sha256": self.file.sha256, "bytes": self.file.size},
                "counts": None
                if self.counts is None
                else {
                    "accepted": self.counts.accepted,
                    "refused": self.counts.refused,
                    "unchanged": self.counts.unchanged,
                },
                "courts": courts,
                "client": self.client,
            },
        }
        return EventDraft(kind=kind, body=body)


class OperatorAudit:
    """Appends operator acts to a deployment's audit log, each durably before it returns.

    Args:
        settings: The deployment's settings (the log's origin).
        engine: Its database.
        keys: Its keys (the audit signing key seals the events).
    """

    def __init__(self, settings: Settings, engine: Engine, keys: KeySet) -> None:
        self._log = AuditLog.from_settings(settings, engine, keys)
        # One id ties an import's intent to its outcome, as a request id does.
        self.request_id = f"cli-{secrets.token_hex(8)}"

    def record(self, act: OperatorAct, kind: str = "outcome") -> AppendedEvent:
        """Make the act's event durable (its own transaction) and return its receipt.

        Raises:
            OperatorActNotRecorded: the database refused the event.
        """
        try:
            (event,) = self._log.append_blocking([act.draft(kind, self.request_id)])
        except SQLAlchemyError as error:
            reason = str(getattr(error, "orig", None) or error).splitlines()[0]
            raise OperatorActNotRecorded(
                f"the audit log could not record `credgate {act.command}` ({reason})"
            ) from None
        return event
