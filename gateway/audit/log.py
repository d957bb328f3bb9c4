"""``AuditLog``: the audit log as the rest of the gateway sees it.

It assembles the parts (store, subject cipher, group-commit writer,
integrator) from the gateway's engine and keys, and offers what requests need:
append events durably and say whether the log is writable (``/readyz``).
"""

from __future__ import annotations

import asyncio
import time
from functools import partial
from urllib.parse import urlsplit

from sqlalchemy.engine import Engine

from gateway.audit.checkpoint import NoteSigner, NoteVerifier
from gateway.audit.events import EventDraft
from gateway.audit.integrator import Integrator
from gateway.audit.store import AuditStore
from gateway.audit.subjects import SubjectCipher
from gateway.audit.writer import (
    AppendedEvent,
    AuditUnavailable,
    EventSealer,
    GroupCommitWriter,
    commit_batch,
)
from gateway.db import run_sync
from gateway.keys import KeySet
from gateway.settings import Settings

__all__ = ["AuditLog", "AuditUnavailable", "log_origin"]

#: Index used by the readiness probe's rolled-back rows; never a real event.
_PROBE_INDEX = -1


def log_origin(settings: Settings) -> str:
    """The log's origin line (C2SP tlog-checkpoint), e.g. ``gateway.example/audit``.

    ``[audit] origin`` in the config overrides it; by default it is the public
    URL's host and port, which names this deployment's log uniquely.
    """
    configured = settings.section("audit").get("origin")
    if isinstance(configured, str) and configured:
        return configured
    return f"{urlsplit(settings.public_url).netloc}/audit"


class AuditLog:
    """The tamper-evident audit log of one gateway.

    Args:
        engine: The gateway's database engine.
        keys: The gateway's keys (audit signing, blind index, subject encryption).
        origin: The log's origin, also the checkpoint key name.
        checkpoint_interval_s: Longest delay before new events get a checkpoint.
    """

    def __init__(
        self, engine: Engine, keys: KeySet, origin: str, *, checkpoint_interval_s: float = 0.5
    ) -> None:
        self.store = AuditStore(engine)
        self.cipher = SubjectCipher(keys.blind_index_key, keys.subject_encryption_key)
        self.signer = NoteSigner(origin, keys.audit_signing.private_key)
        self._sealer = EventSealer(keys.audit_signing.private_key, self.cipher)
        self.integrator = Integrator(self.store, self.signer, checkpoint_interval_s)
        # The committer thread appends on a connection of its own (see HeldAppender).
        self._appender = self.store.appender()
        self.writer = GroupCommitWriter(
            partial(commit_batch, self._appender, self._sealer), self.integrator.notify
        )

    @classmethod
    def from_settings(cls, settings: Settings, engine: Engine, keys: KeySet) -> AuditLog:
        """The audit log of a deployment."""
        return cls(engine, keys, log_origin(settings))

    @property
    def verifier(self) -> NoteVerifier:
        """The checkpoint verifier key, to publish to auditors and witnesses."""
        return self.signer.verifier

    async def append(self, drafts: list[EventDraft]) -> list[AppendedEvent]:
        """Make events durable (group commit) and return their receipts.

        Raises:
            AuditUnavailable: If they could not be made durable.
        """
        return await self.writer.append(drafts)

    def submit(self, drafts: list[EventDraft]) -> asyncio.Future[list[AppendedEvent]]:
        """Queue events for the next group commit at once (see ``GroupCommitWriter.submit``)."""
        return self.writer.submit(drafts)

    def append_blocking(self, drafts: list[EventDraft]) -> list[AppendedEvent]:
        """Append events in one transaction of their own, from a thread or a script.

        Raises:
            sqlalchemy.exc.SQLAlchemyError: If the database refuses them.
        """
        return commit_batch(self.store, self._sealer, drafts)

    def integrate_now(self) -> bool:
        """Sign a checkpoint covering every event now (blocking), after any running round."""
        return self.integrator.integrate_once(wait=True)

    async def start(self) -> None:
        """Start the integrator (the writer starts with the first append)."""
        await self.integrator.start()

    async def stop(self) -> None:
        """Commit queued events, then stop the writer and the integrator."""
        await self.writer.stop()
        self._appender.close()  # the committer has stopped; a later append reopens it
        await self.integrator.stop()

    async def readiness(self) -> tuple[bool, str]:
        """Whether an event could be made durable now (``/readyz``).

        Writes a sample event to every audit table under the coordinator lock,
        then rolls it back: a log that cannot be written is not ready, and
        requests would be refused (fail closed).
        """
        sample = self._sealer.seal(
            [EventDraft("outcome", _PROBE_BODY, ("probe",))],
            _PROBE_INDEX,
            time.time_ns() // 1_000_000,
        )
        try:
            await run_sync(self.store.probe, sample)
        except Exception as error:
            return False, f"cannot write the audit log ({type(error).__name__})"
        detail = "writable"
        if self.integrator.last_error:
            detail += f"; integrator: {self.integrator.last_error}"
        return True, detail


# An agency call and a subject, so that the probe writes a row to every audit table.
_PROBE_BODY = {
    "requestId": "readiness-probe",
    "outcome": "ok",
    "principal": None,
    "agencies": [{"agencyId": "probe"}],
}
