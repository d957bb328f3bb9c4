"""``credgate list``: bulk loads of the dishonest-debtor list."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

from tqdm import tqdm

from gateway import migrate
from gateway.audit.operator_acts import ImportCounts, OperatorAct, OperatorAudit, file_digest
from gateway.commands.common import (
    add_location_options,
    add_operator_option,
    fail,
    settings_from,
)
from gateway.credit_list.importer import Format, ImportReport, ListImporter
from gateway.db import create_db_engine
from gateway.keys import load_keys

# Below this size worker processes cost more to start than they save.
_PARALLEL_FROM_BYTES = 4 * 1024 * 1024


def _format_of(path: Path, given: str | None) -> Format:
    if given == "csv" or (given is None and path.suffix.lower() == ".csv"):
        return "csv"
    return "jsonl"


def _jobs(path: Path, given: int | None) -> int:
    if given is not None:
        return max(1, given)
    return (os.cpu_count() or 1) if path.stat().st_size >= _PARALLEL_FROM_BYTES else 1


def _print_report(report: ImportReport, seconds: float) -> None:
    for rejection in report.rejections:
        print(f"line {rejection.line}: {rejection.reason}: {rejection.detail}")
    reasons = ", ".join(f"{count} {reason}" for reason, count in sorted(report.reasons().items()))
    rejected = len(report.rejections)
    print(
        f"imported {report.imported} of {report.read} rows in {seconds:.1f} s; "
        f"{rejected} rejected" + (f" ({reasons})" if reasons else "")
    )


def _counts(report: ImportReport) -> ImportCounts:
    # A debtor already listed in that case is left as it is: unchanged, not refused.
    unchanged = report.reasons().get("DUPLICATE", 0)
    return ImportCounts(report.imported, len(report.rejections) - unchanged, unchanged)


def _import(args: argparse.Namespace) -> int:
    path: Path = args.file
    if not path.is_file():
        return fail(f"{path}: no such file", 2)
    settings = settings_from(args)
    keys = load_keys(settings.keys_dir)
    engine = create_db_engine(settings.database_url)
    try:
        migrate.ensure_current(engine, hint="credgate db upgrade")
        audit = OperatorAudit(settings, engine, keys)
        act = OperatorAct("list import", "listImport", args.operator, file=file_digest(path))
        # The intent is durable before the list is touched: no audit, no import.
        audit.record(act, "intent")
        importer = ListImporter(
            engine,
            keys.blind_index_key,
            keys.subject_encryption_key,
            jobs=_jobs(path, args.jobs),
            chunk_size=args.chunk_size,
        )
        started = time.perf_counter()
        with tqdm(
            total=path.stat().st_size,
            unit="B",
            unit_scale=True,
            desc="importing",
            file=sys.stderr,
            disable=args.quiet,
        ) as bar:
            report = importer.run(path, _format_of(path, args.format), bar.update)
        outcome = dataclasses.replace(act, counts=_counts(report), courts=sorted(report.courts))
        event = audit.record(outcome)
    finally:
        engine.dispose()
    _print_report(report, time.perf_counter() - started)
    print(f"recorded as audit event {event.index} (operator {args.operator})", file=sys.stderr)
    return 1 if report.rejections else 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``list import``."""
    parser = subparsers.add_parser("list", help="the dishonest-debtor list (失信被执行人名单)")
    commands = parser.add_subparsers(dest="list_command", required=True)
    load = commands.add_parser(
        "import",
        help="load entries from JSON lines or CSV",
        description=(
            "Load list entries (one per line; CSV with a header of the same field names). "
            "Rejected rows are reported by line number and skipped; the others are "
            "imported. Exit status: 0 all imported, 1 some rows rejected, 2 not started."
        ),
    )
    load.add_argument("file", type=Path, help="the file to import")
    load.add_argument(
        "--format", choices=("jsonl", "csv"), default=None, help="default: from the file suffix"
    )
    load.add_argument(
        "--jobs", type=int, default=None, help="validation processes (default: CPUs for big files)"
    )
    load.add_argument("--chunk-size", type=int, default=5000, help="rows per transaction")
    load.add_argument("--quiet", action="store_true", help="no progress bar")
    add_location_options(load)
    add_operator_option(load)
    load.set_defaults(handler=_import)
