"""Audit proofs on a large log: ``auditProof`` and ``auditConsistencyProof`` at 10,000,000 events.

Builds a log of ``--events`` events (SQLite by default, PostgreSQL with
``--database-url``), then times proofs through the real GraphQL path: the
gateway app (``create_app``: token check, strawberry, resolver, the request's
own audit event appended before the answer leaves) driven in-process over
HTTP by httpx's ASGI transport, with an auditor's bearer token from the real
token endpoint; no socket. It also times the function the resolvers call
(``gateway.audit.schema._proof`` / ``_consistency``) on its own. Every proof is
checked (RFC 9162 verification against the signed checkpoint) outside the
timed section. Target: ``auditProof`` p99 under 50 ms at 10,000,000 events.

How the log is built (minutes, not the hours that 10,000,000 GraphQL requests
would take): each event is the outcome event of an officer's ``me`` query,
which has no subject or agency rows, so the writer writes exactly one
``audit_events`` row for it. The entry is the real writer's canonical JSON
(rendered by ``EventSealer`` once) with its index, time and request id put in;
its leaf hash is computed from it. The receipt signature is 64 zero bytes
unless ``--sign-receipts`` (a real Ed25519 signature costs ~75 us here, 12
minutes for 10,000,000; proofs never read it, ``audit verify`` would flag it).
The tree's levels are grown from those leaves by ``MerkleFrontier.grow``, the
integrator's own code, and stored as the integrator stores them; then one
checkpoint over all events is signed with the deployment's audit key, and the
coordinator rows are set as the writer and integrator leave them. Rows go in
with the driver's bulk path: ``executemany`` in large transactions on SQLite,
``COPY`` on PostgreSQL.

Usage:
    .venv/bin/python -m bench.audit_proof [--events 10000000] [--proofs 500]
        [--database-url URL] [--keep DIR] [--sign-receipts]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import text

from bench.audit_append import OFFICER, deployment, drop_schema
from gateway.access_record import AccessRecord
from gateway.app import create_app
from gateway.audit.canonical import canonical_json, decode_base64
from gateway.audit.checkpoint import Checkpoint, NoteSigner, open_checkpoint
from gateway.audit.events import RequestFacts, outcome_draft
from gateway.audit.log import AuditLog, log_origin
from gateway.audit.merkle import MerkleFrontier, leaf_hash, verify_consistency, verify_inclusion
from gateway.audit.receipt import receipt_message
from gateway.audit.schema import _consistency, _proof
from gateway.audit.store import EventValues
from gateway.audit.tree_store import TreeStore
from gateway.auth import scopes
from gateway.auth.clients import ClientRegistration, ClientStore
from gateway.auth.principal import Role
from gateway.db import create_db_engine
from gateway.keys import load_keys
from gateway.services import build_services
from gateway.settings import Settings, load_settings

CHUNK = 200_000
START_MS = 1_764_633_600_000  # 2025-12-02, one event per millisecond after it
_BUILT = "audit-proof-built.txt"

PROOF = "query P($i: Int!) { auditProof(index: $i) { treeSize leafHash hashes checkpoint } }"
CONSISTENCY = (
    "query C($f: Int!) { auditConsistencyProof(fromSize: $f) { toSize hashes checkpoint } }"
)


class EventTemplate:
    """The writer's row for an officer's ``me`` event, with index, time and request id put in."""

    def __init__(self, settings: Settings, sign: bool) -> None:
        keys = load_keys(settings.keys_dir)
        self._key = keys.audit_signing.private_key if sign else None
        facts = RequestFacts("req-@ID@", OFFICER, None, "Me", "sha256:me")
        draft = outcome_draft(facts, AccessRecord())
        entry = canonical_json(draft.render(987654321, 1234567890123, []))
        entry = entry.replace(b"%", b"%%").replace(b"987654321", b"%d", 1)
        self._entry = entry.replace(b"1234567890123", b"%d", 1).replace(b"@ID@", b"%010d", 1)
        principal = draft.body["principal"]
        self._fixed = (
            principal["subject"],
            principal["clientId"],
            principal["role"],
            principal["courtId"],
            principal["officerId"],
        )

    def rows(self, start: int, end: int) -> tuple[list[EventValues], list[bytes]]:
        """The rows of events ``start`` to ``end - 1`` and their leaf hashes."""
        rows, leaves = [], []
        subject, client, role, court, officer = self._fixed
        for index in range(start, end):
            time_ms = START_MS + index
            entry = self._entry % (index, index, time_ms)
            leaf = leaf_hash(entry)
            signature = (
                self._key.sign(receipt_message(index, leaf, time_ms)) if self._key else bytes(64)
            )
            rows.append(
                EventValues(
                    index, "outcome", time_ms, f"req-{index:010d}", subject, client, role,
                    court, officer, None, "ok", entry, leaf, signature,
                )
            )  # fmt: skip
            leaves.append(leaf)
        return rows, leaves


def _sqlite_writer(connection: Any) -> Callable[[str, Sequence[str], list[tuple[Any, ...]]], None]:
    cursor = connection.cursor()
    cursor.execute("PRAGMA synchronous=OFF")  # a bench build: durability comes from the end
    cursor.execute("PRAGMA cache_size=-1000000")

    def write(table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        marks = ", ".join("?" * len(columns))
        # Table and column names are this module's constants, never input.
        statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
        cursor.executemany(statement, rows)

    return write


def _postgres_writer(
    connection: Any,
) -> Callable[[str, Sequence[str], list[tuple[Any, ...]]], None]:
    def write(table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        with (
            connection.cursor() as cursor,
            cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)

    return write


def build_log(settings: Settings, events: int, sign: bool) -> None:
    """Write ``events`` events, the tree's levels and one checkpoint (see the docstring)."""
    engine = create_db_engine(settings.database_url)
    template = EventTemplate(settings, sign)
    frontier = MerkleFrontier()
    raw = engine.raw_connection()
    try:
        dbapi = raw.driver_connection
        postgres = engine.dialect.name == "postgresql"
        write = _postgres_writer(dbapi) if postgres else _sqlite_writer(dbapi)
        began = time.perf_counter()
        for start in range(0, events, CHUNK):
            rows, leaves = template.rows(start, min(start + CHUNK, events))
            write("audit_events", EventValues._fields, rows)  # type: ignore[arg-type]
            nodes = [(n.level, n.index, n.hash) for n in frontier.grow(leaves)]
            write("audit_tree_nodes", ("level", "idx", "hash"), nodes)
            raw.commit()
            done = start + len(rows)
            if done % 1_000_000 < CHUNK or done == events:
                print(f"  {done:,} events in {time.perf_counter() - began:.0f} s", flush=True)
    finally:
        raw.close()
    key = load_keys(settings.keys_dir).audit_signing.private_key
    signer = NoteSigner(log_origin(settings), key)
    root = frontier.root()
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO audit_checkpoints (size, root_hash, note, frontier, created_ms) "
                "VALUES (:size, :root, :note, :frontier, :created)"
            ),
            {
                "size": events,
                "root": root,
                "note": signer.sign(Checkpoint(signer.name, events, root)),
                "frontier": orjson.dumps(frontier.to_dict()).decode("ascii"),
                "created": START_MS + events,
            },
        )
        connection.execute(text("UPDATE audit_sequence SET next_index = :n"), {"n": events})
        connection.execute(text("UPDATE audit_integrator SET checkpoints = 1"))
        if engine.dialect.name == "postgresql":
            connection.execute(text("ANALYZE"))
    engine.dispose()


def _percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * len(ordered)) - 1)]
    return (
        f"p50 {statistics.median(ordered):6.2f} ms  p99 {p99:6.2f} ms  "
        f"max {ordered[-1]:6.2f} ms  (n={len(ordered)})"
    )


def _timed(call: Callable[[], Any]) -> tuple[float, Any]:
    began = time.perf_counter()
    result = call()
    return (time.perf_counter() - began) * 1000, result


async def _over_http(settings: Settings, picks: list[int], froms: list[int]) -> None:
    services = build_services(settings)
    app = create_app(settings, services)
    client, secret = ClientStore(services.engine).register(
        ClientRegistration(
            name=f"bench-auditor-{secrets.token_hex(3)}",
            role=Role.AUDITOR,
            scopes=frozenset({scopes.AUDIT_READ}),
            court_id="court-wuzhi",
        )
    )
    audit = services.audit
    assert audit is not None
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=settings.public_url) as http,
    ):
        grant = {"grant_type": "client_credentials"}
        answer = await http.post("/oauth/token", data=grant, auth=(client.client_id, secret))
        headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}

        async def ask(query: str, variables: dict[str, int]) -> tuple[float, Any]:
            began = time.perf_counter()
            response = await http.post(
                "/graphql", json={"query": query, "variables": variables}, headers=headers
            )
            elapsed = (time.perf_counter() - began) * 1000
            body = response.json()
            assert response.status_code == 200, body
            assert "errors" not in body, body
            return elapsed, body["data"]

        for index in picks[:20]:  # warm-up: caches, pool, first compilations
            await ask(PROOF, {"i": index})
        inclusion: list[float] = []
        for index in picks:
            elapsed, data = await ask(PROOF, {"i": index})
            inclusion.append(elapsed)
            _check_inclusion(audit, index, data["auditProof"])
        consistency: list[float] = []
        tree = TreeStore(audit.store.engine)
        for size1 in froms:
            elapsed, data = await ask(CONSISTENCY, {"f": size1})
            consistency.append(elapsed)
            _check_consistency(audit, tree, size1, data["auditConsistencyProof"])
        print(f"auditProof over HTTP (in-process ASGI):            {_percentiles(inclusion)}")
        print(f"auditConsistencyProof over HTTP (in-process ASGI): {_percentiles(consistency)}")
        size = audit.store.latest_checkpoint().size  # type: ignore[union-attr]
        print(f"(the integrator extended the tree meanwhile: now {size:,} events)")
        direct = [_timed(lambda i=i: _proof(audit, i))[0] for i in picks]
        print(f"_proof, the resolver's function:                    {_percentiles(direct)}")
        direct = [_timed(lambda f=f: _consistency(audit, f, None))[0] for f in froms]
        print(f"_consistency, the resolver's function:              {_percentiles(direct)}")
    services.engine.dispose()


def _check_inclusion(audit: AuditLog, index: int, proof: dict[str, Any]) -> None:
    checkpoint = open_checkpoint(proof["checkpoint"], audit.verifier)
    path = [decode_base64(h) for h in proof["hashes"]]
    leaf = decode_base64(proof["leafHash"])
    verify_inclusion(leaf, index, checkpoint.size, path, checkpoint.root_hash)


def _check_consistency(audit: AuditLog, tree: TreeStore, size1: int, proof: Any) -> None:
    checkpoint = open_checkpoint(proof["checkpoint"], audit.verifier)
    path = [decode_base64(h) for h in proof["hashes"]]
    verify_consistency(size1, checkpoint.size, path, tree.root(size1), checkpoint.root_hash)


def _indices(rng: random.Random, size: int, count: int) -> Iterator[int]:
    for _ in range(count):
        yield rng.randrange(size)


def main() -> None:
    """Build (or reuse) the log, time the proofs, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--proofs", type=int, default=500, help="timed proofs of each kind")
    parser.add_argument("--database-url", help="PostgreSQL URL (default: SQLite)")
    parser.add_argument("--keep", type=Path, help="build into DIR and keep it; reuse if built")
    parser.add_argument("--sign-receipts", action="store_true", help="real receipt signatures")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.keep or Path(tmp)
        data_dir.mkdir(parents=True, exist_ok=True)
        schema = None
        if not (data_dir / _BUILT).exists():
            url, schema = deployment(args.database_url, data_dir)
            settings = load_settings(data_dir=data_dir, env={})
            print(f"building {args.events:,} events on {url.split(':')[0]} ...", flush=True)
            began = time.perf_counter()
            build_log(settings, args.events, args.sign_receipts)
            print(f"built in {time.perf_counter() - began:.0f} s", flush=True)
            (data_dir / _BUILT).write_text(f"{args.events}\n{schema or ''}\n")
        else:
            print(f"reusing the log in {data_dir}")
        settings = load_settings(data_dir=data_dir, env={})
        engine = create_db_engine(settings.database_url)
        with engine.connect() as connection:
            size = int(connection.execute(text("SELECT max(size) FROM audit_checkpoints")).scalar())
        engine.dispose()
        rng = random.Random(args.seed)
        picks = list(_indices(rng, size, args.proofs))
        froms = [1 + i for i in _indices(rng, size, args.proofs)]
        asyncio.run(_over_http(settings, picks, froms))
        if args.keep is None:
            drop_schema(args.database_url, schema)


if __name__ == "__main__":
    main()
