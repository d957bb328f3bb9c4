"""Options every data-touching subcommand shares, and turning them into settings."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway.audit.operator_acts import default_operator
from gateway.errors import ConfigError
from gateway.settings import Settings, load_settings


def add_location_options(parser: argparse.ArgumentParser) -> None:
    """``--data-dir`` and ``--config``: where the deployment's data and settings are."""
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="data directory (keys, SQLite database); default ./.credgate-demo",
    )
    parser.add_argument("--config", type=Path, default=None, help="credgate.toml to read")


def settings_from(args: argparse.Namespace, *, creates: bool = False) -> Settings:
    """Settings for the data directory and config file named on the command line.

    Args:
        args: The parsed command line.
        creates: The command sets up a new deployment (``keys init``, ``db
            upgrade``), so ``--data-dir`` may name a directory still to be made.

    Raises:
        ConfigError: ``--data-dir`` names a directory that does not exist (a
            typo would otherwise read as "no keys here: run keys init").
    """
    data_dir: Path | None = args.data_dir
    if data_dir is not None and not creates and not data_dir.is_dir():
        reason = "not a directory" if data_dir.exists() else "no such directory"
        raise ConfigError(data_dir, f"{reason} (--data-dir names an existing data directory)")
    return load_settings(config=args.config, data_dir=data_dir)


def fail(message: str, code: int = 1) -> int:
    """Print an error for a human and return the exit code."""
    print(f"credgate: {message}", file=sys.stderr)
    return code


def add_operator_option(parser: argparse.ArgumentParser) -> None:
    """``--operator NAME``: who runs a command that writes, for its audit event."""
    parser.add_argument(
        "--operator",
        default=default_operator(),
        help="who runs this, as the audit log records it (default: the OS user)",
    )
