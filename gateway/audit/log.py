"""``AuditLog``: the audit log as the rest of the gateway sees it.

It assembles the parts (store, subject cipher, group-commit writer,
integrator) from the gateway's engine and keys, and offers what requests need:
append events durably and say whether the log is writable (``/readyz``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
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
from gateway.errors import ConfigError
from gateway.keys import KeySet
from gateway.settings import Settings

__all__ = ["AuditLog", "AuditUnavailable", "log_origin"]

#: ``[audit] commit_delay_ms`` unless configured. Measured with bench.throughput's
#: stack at concurrency 16 (bench/README.md): 0, 2, 4 and 8 ms gave credgate/baseline
#: CPU ratios of about 1.82, 1.72, 1.59 and 1.67.
DEFAULT_COMMIT_DELAY_MS = 4
#: A longer wait would hold every concurrent response back for no gain.
MAX_COMMIT_DELAY_MS = 1000

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
        commit_delay_s: How long a group commit may wait for more events while
            several requests are under way (see ``GroupCommitWriter``).
    """

    def __init__(
        self,
        engine: Engine,
        keys: KeySet,
        origin: str,
        *,
        checkpoint_interval_s: float = 0.5,
        commit_delay_s: float = 0.0,
    ) -> None:
        self._requests = 0
        self.store = AuditStore(engine)
        self.cipher = SubjectCipher(keys.blind_index_key, keys.subject_encryption_key)
        self.signer = NoteSigner(origin, keys.audit_signing.private_key)
        self._sealer = EventSealer(keys.audit_signing.private_key, self.cipher)
        self.integrator = Integrator(self.store, self.signer, checkpoint_interval_s)
        # The committer thread appends on a connection of its own (see HeldAppender).
        self._appender = self.store.appender()
        self.writer = GroupCommitWriter(
            partial(commit_batch, self._appender, self._sealer),
            self.integrator.notify,
            in_flight=self.requests_in_flight,
            commit_delay_s=commit_delay_s,
        )

    @classmethod
    def from_settings(cls, settings: Settings, engine: Engine, keys: KeySet) -> AuditLog:
        """The audit log of a deployment (``[audit] commit_delay_ms``, default 4).

        Raises:
            ConfigError: ``commit_delay_ms`` is not a number of milliseconds from 0 to 1000.
        """
        delay_ms = settings.section("audit").get("commit_delay_ms", DEFAULT_COMMIT_DELAY_MS)
        if (
            isinstance(delay_ms, bool)
            or not isinstance(delay_ms, int | float)
            or not 0 <= delay_ms <= MAX_COMMIT_DELAY_MS
        ):
            where = settings.config_file or "environment"
            raise ConfigError(
                where,
                f"'audit.commit_delay_ms' must be a number of milliseconds from 0 to "
                f"{MAX_COMMIT_DELAY_MS}, not {delay_ms!r}",
            )
        return cls(engine, keys, log_origin(settings), commit_delay_s=delay_ms / 1000)

    def requests_in_flight(self) -> int:
        """Requests under way whose events are still to come (see :meth:`request`)."""
        return self._requests

    @contextmanager
    def request(self) -> Iterator[None]:
        """Count a request as under way for the block (the group commit's sibling count).

        A plain counter, bumped on event loops and read by the committer thread:
        a momentarily stale count only changes how long one batch waits.
        """
        self._requests += 1
        try:
            yield
        finally:
            self._requests -= 1

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
