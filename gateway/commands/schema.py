"""``credgate schema``: print the GraphQL SDL (introspection is off in production)."""

from __future__ import annotations

import argparse
from pathlib import Path

from gateway.kind_config import load_configured_kinds
from gateway.schema import build_schema
from gateway.settings import load_settings


def _print_schema(args: argparse.Namespace) -> int:
    if args.config is not None:
        # The investigation types include the agency kinds the deployment declares.
        load_configured_kinds(load_settings(config=args.config))
    print(build_schema().as_str())
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``schema``."""
    parser = subparsers.add_parser(
        "schema", help="print the GraphQL schema (SDL) for code generation and API tools"
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="credgate.toml whose [kinds] add agency kinds to the schema",
    )
    parser.set_defaults(handler=_print_schema)
