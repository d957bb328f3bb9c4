"""``credgate schema``: print the GraphQL SDL (introspection is off in production)."""

from __future__ import annotations

import argparse

from gateway.schema import build_schema


def _print_schema(_: argparse.Namespace) -> int:
    print(build_schema().as_str())
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``schema``."""
    parser = subparsers.add_parser(
        "schema", help="print the GraphQL schema (SDL) for code generation and API tools"
    )
    parser.set_defaults(handler=_print_schema)
