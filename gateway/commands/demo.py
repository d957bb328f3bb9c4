"""``credgate demo``: prepare the embedded demo and serve it on 127.0.0.1."""

from __future__ import annotations

import argparse
import shlex
import signal
import socket
from pathlib import Path
from types import FrameType

import uvicorn
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.demo import DemoSetup, prepare_demo
from gateway.demo_remote import remote_demo_agencies
from gateway.logging import configure_logging
from gateway.memory import limit_malloc_arenas, settle_heap

EXTRACT_TOKEN = "python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])'"  # noqa: S105 - a shell snippet, not a secret


def describe(setup: DemoSetup) -> str:
    """The text the demo prints: URL, clients, and a ready-to-paste query."""
    document = setup.document()
    officer = document["clients"]["officer"]
    lines = [
        "",
        "credgate demo is ready.",
        f"  GraphQL endpoint : {document['gateway']}",
        f"  Token endpoint   : {document['token_endpoint']}",
        f"  Data directory   : {document['data_dir']}  (facts also in demo.json)",
        "",
        "Demo OAuth clients (client_credentials grant):",
    ]
    for name, client in document["clients"].items():
        lines.append(f"  {name:<24} id={client['client_id']}  secret={client['client_secret']}")
        lines.append(f"  {'':<24} scope: {client['scope']}")
    token_cmd = (
        f"curl -s -u {officer['client_id']}:{officer['client_secret']} "
        f"-d grant_type=client_credentials {document['token_endpoint']}"
    )
    query = '{"query":"{ me { role courtId officerId scopes } }"}'
    lines += [
        "",
        "Try it (bash):",
        f"  TOKEN=$({token_cmd} | {EXTRACT_TOKEN})",
        "  curl -s -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' \\",
        f"       -d {shlex.quote(query)} {document['gateway']}",
    ]
    for hint in setup.extra.get("hints", []):
        lines.append(f"  {hint}")
    lines += ["", "Press Ctrl+C to stop.", ""]
    return "\n".join(lines)


class _AnnouncingServer(uvicorn.Server):
    """A uvicorn server that prints its message once it is listening, not before."""

    def __init__(self, config: uvicorn.Config, message: str) -> None:
        super().__init__(config)
        self._message = message

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            print(self._message, flush=True)


def _serve_announced(app: Starlette, port: int, message: str) -> None:
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    settle_heap()
    _AnnouncingServer(config, message).run()


def _demo(args: argparse.Namespace) -> int:
    limit_malloc_arenas()
    setup = prepare_demo(args.data_dir, args.port)
    configure_logging(setup.settings.log_level)
    if args.remote:
        return _demo_remote(args, setup)
    app = create_app(setup.settings)
    _serve_announced(app, args.port, describe(setup))
    return 0


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # SIGTERM's default action ends the process at once, skipping the ``finally``
    # that stops the connectors; as SystemExit it unwinds through it. (uvicorn
    # handles SIGTERM while serving and raises it again once it has shut down.)
    raise SystemExit(128 + signum)


def _demo_remote(args: argparse.Namespace, setup: DemoSetup) -> int:
    # The agencies run as separate processes; they stop with the demo (finally).
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    with remote_demo_agencies(setup.settings, args.agency_port) as (settings, connectors):
        app = create_app(settings)
        lines = [describe(setup)]
        for connector in connectors:
            pid = connector.process.pid
            lines.append(f"  connector {connector.identity.id:<24} {connector.url}  pid {pid}")
        lines.append("  (kill one pid: its agency's fields turn null with AGENCY_UNAVAILABLE)\n")
        _serve_announced(app, args.port, "\n".join(lines))
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``demo``."""
    parser = subparsers.add_parser(
        "demo", help="create the demo data directory (keys, database, clients) and serve it"
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(".credgate-demo"),
        help="where to keep the demo (default ./.credgate-demo)",
    )
    parser.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (default 8000)")
    parser.add_argument(
        "--remote",
        action="store_true",
        help="run each demo agency as its own connector service, reached over signed HTTP",
    )
    parser.add_argument(
        "--agency-port", type=int, default=9101, help="first connector port with --remote"
    )
    parser.set_defaults(handler=_demo)
