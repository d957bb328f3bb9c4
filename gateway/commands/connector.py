"""``credgate connector``: run an agency's connector service, and make its keys.

An agency runs ``credgate connector serve`` next to its own data. It needs its
own key pair (``credgate connector keygen``: it keeps the private key, the court
configures the public one) and the gateway's public key (``credgate connector
gateway-key`` on the gateway host prints it). The agency logic lives in
``connectors/``: this module only wires the SDK's service to the registry.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import uvicorn

from connectors.catalog import KINDS, load_kind
from connectors.control_ledger import ControlledConnector
from connectors.control_testing import DelayedControls
from connectors.registry import build_connector, build_controlled, takes_measures
from connectors.sdk import AgencyIdentity, Connector
from connectors.service import create_service
from connectors.signing import (
    TrustedKeys,
    generate_key_file,
    load_private_key,
    load_public_key,
    public_pem,
)
from connectors.testing import DelayedConnector
from gateway.commands.common import add_location_options, fail, settings_from
from gateway.keys import load_signing_key
from gateway.memory import settle_heap


def _serve(args: argparse.Namespace) -> int:
    try:
        for path in args.kind_spec:
            load_kind(path)
        KINDS.get(args.kind)
    except ValueError as error:
        return fail(f"cannot start: {error}", 2)
    try:
        key = load_private_key(args.key)
        trusted = TrustedKeys(load_public_key(path) for path in args.gateway_key)
        identity = AgencyIdentity(args.agency_id, args.kind, args.agency_name or args.agency_id)
    except ValueError as error:
        return fail(f"cannot start: {error}", 2)
    if args.simulated_latency_ms < 0:
        return fail("--simulated-latency-ms must be >= 0", 2)
    if args.measures_url is not None and not takes_measures(args.kind):
        return fail(f"agencies of kind {args.kind} take no control measures", 2)
    connector: Connector | ControlledConnector
    try:
        if args.measures_url is not None:
            connector = build_controlled(args.kind, identity, args.database_url, args.measures_url)
        else:
            connector = build_connector(args.kind, identity, args.database_url)
    except ValueError as error:
        return fail(f"cannot start: {error}", 2)

    async def close() -> None:
        aclose = getattr(connector, "aclose", None)
        if aclose is not None:
            await aclose()

    served: Connector = connector
    if args.simulated_latency_ms:
        # A testing and benchmark aid: every answer waits this long first, as a
        # remote agency's own processing would.
        delay = args.simulated_latency_ms / 1000
        if isinstance(connector, ControlledConnector):
            served = DelayedControls(connector, delay)
        else:
            served = DelayedConnector(connector, delay)
    app = create_service(served, key, trusted, freshness_s=args.freshness_s, on_shutdown=close)
    logging.basicConfig(level=logging.WARNING)
    print(f"connector {identity.id} ({args.kind}) on http://{args.host}:{args.port}", flush=True)
    settle_heap()
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0


def _keygen(args: argparse.Namespace) -> int:
    try:
        key, public_path = generate_key_file(args.key)
    except FileExistsError:
        return fail(f"{args.key} exists already; keys are never overwritten")
    print(f"private key {args.key} (mode 0600, keep it at the agency)")
    print(f"public key  {public_path} (give it to the court: [agencies.<id>] public_key)")
    print(f"key id      {key.kid}")
    return 0


def _gateway_key(args: argparse.Namespace) -> int:
    key = load_signing_key(settings_from(args).keys_dir / "gateway-signing.pem")
    pem = public_pem(key.public_key)
    if args.out is None:
        print(pem.decode(), end="")
    else:
        args.out.write_bytes(pem)
        print(f"wrote {args.out} (key id {key.kid})")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``connector serve``, ``connector keygen`` and ``connector gateway-key``."""
    parser = subparsers.add_parser("connector", help="run an agency connector service")
    commands = parser.add_subparsers(dest="connector_command", required=True)

    serve = commands.add_parser("serve", help="serve one agency's data over signed HTTP")
    serve.add_argument(
        "kind", help="the agency kind: a built-in one or one loaded with --kind-spec"
    )
    serve.add_argument(
        "--kind-spec",
        action="append",
        default=[],
        metavar="MODULE:NAME",
        help="load an agency's own kind declaration (an AgencyKindSpec); repeatable",
    )
    serve.add_argument("--agency-id", required=True, help="e.g. bank-icbc")
    serve.add_argument("--agency-name", default=None, help="display name (default: the id)")
    serve.add_argument("--database-url", required=True, help="SQLAlchemy URL of the agency data")
    serve.add_argument(
        "--measures-url",
        default=None,
        help="SQLAlchemy URL of the control-measure ledger: the agency then takes measures",
    )
    serve.add_argument("--key", type=Path, required=True, help="the agency's private key (PEM)")
    serve.add_argument(
        "--gateway-key",
        type=Path,
        action="append",
        required=True,
        help="a trusted gateway public key (PEM); repeat during key rotation",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=9100, help="port (default 9100)")
    serve.add_argument(
        "--freshness-s", type=float, default=60.0, help="accepted clock difference (default 60)"
    )
    serve.add_argument(
        "--simulated-latency-ms",
        type=float,
        default=0.0,
        help="testing and benchmark aid: delay every answer this long (default 0)",
    )
    serve.set_defaults(handler=_serve)

    keygen = commands.add_parser("keygen", help="create an agency key pair")
    keygen.add_argument(
        "--key", type=Path, required=True, help="private key file to create (public: .pub.pem)"
    )
    keygen.set_defaults(handler=_keygen)

    gateway_key = commands.add_parser(
        "gateway-key", help="print the gateway's public request-signing key for agencies"
    )
    add_location_options(gateway_key)
    gateway_key.add_argument("--out", type=Path, default=None, help="write it to this file")
    gateway_key.set_defaults(handler=_gateway_key)
