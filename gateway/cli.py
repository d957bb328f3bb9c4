"""The ``credgate`` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sqlalchemy.exc import SQLAlchemyError

from gateway.commands import (
    audit,
    cases,
    clients,
    connector,
    credit_list,
    db,
    demo,
    keys,
    policy,
    schema,
    serve,
)
from gateway.commands.common import fail
from gateway.errors import ConfigError, CredgateError

COMMAND_GROUPS = (
    serve,
    demo,
    keys,
    db,
    schema,
    audit,
    credit_list,
    cases,
    clients,
    connector,
    policy,
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="credgate",
        description="Court-enforcement credit-information gateway: GraphQL over agency connectors.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in COMMAND_GROUPS:
        group.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``credgate`` with ``argv``; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except ConfigError as error:
        return fail(f"cannot start: {error.path}: {error.reason}", 2)
    except CredgateError as error:
        return fail(error.message, 2)
    except SQLAlchemyError as error:
        # One line for the operator (the driver's own words), not a traceback.
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        return fail(f"database error: {reason}", 2)
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
