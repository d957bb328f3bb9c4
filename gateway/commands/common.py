"""Options every data-touching subcommand shares, and turning them into settings."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

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


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings for the data directory and config file named on the command line."""
    return load_settings(config=args.config, data_dir=args.data_dir)


def fail(message: str, code: int = 1) -> int:
    """Print an error for a human and return the exit code."""
    print(f"credgate: {message}", file=sys.stderr)
    return code
