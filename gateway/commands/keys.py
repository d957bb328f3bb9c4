"""``credgate keys``: create and show the gateway's keys."""

from __future__ import annotations

import argparse
import json

from gateway.commands.common import add_location_options, settings_from
from gateway.keys import init_keys, load_keys, public_pem


def _init(args: argparse.Namespace) -> int:
    settings = settings_from(args, creates=True)
    created = init_keys(settings.keys_dir)
    for path in created:
        print(f"created {path}")
    if not created:
        print(f"all keys already present in {settings.keys_dir}")
    return 0


def _show(args: argparse.Namespace) -> int:
    keys = load_keys(settings_from(args).keys_dir)
    if args.format == "jwks":
        print(json.dumps(keys.jwks(), indent=2))
    else:
        for name, key in (
            ("audit-signing", keys.audit_signing),
            ("gateway-signing", keys.gateway_signing),
            ("token-signing", keys.token_signing),
        ):
            print(f"# {name} (kid {key.kid})")
            print(public_pem(key.public_key).decode(), end="")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``keys init`` and ``keys show``."""
    parser = subparsers.add_parser("keys", help="create and show the gateway's keys")
    commands = parser.add_subparsers(dest="keys_command", required=True)
    init = commands.add_parser(
        "init", help="create missing key files under DIR/keys (mode 0600); keeps existing ones"
    )
    add_location_options(init)
    init.set_defaults(handler=_init)
    show = commands.add_parser("show", help="print the public keys (PEM) or the token JWKS")
    add_location_options(show)
    show.add_argument("--format", choices=("pem", "jwks"), default="pem")
    show.set_defaults(handler=_show)
