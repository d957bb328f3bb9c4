"""``credgate serve``: run the gateway under uvicorn."""

from __future__ import annotations

import argparse

import uvicorn

from gateway.app import create_app
from gateway.commands.common import add_location_options, settings_from
from gateway.logging import configure_logging
from gateway.memory import limit_malloc_arenas, settle_heap


def _serve(args: argparse.Namespace) -> int:
    limit_malloc_arenas()
    settings = settings_from(args)
    configure_logging(settings.log_level)
    app = create_app(settings)
    settle_heap()
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``serve``."""
    parser = subparsers.add_parser("serve", help="serve the gateway (uvicorn)")
    add_location_options(parser)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.set_defaults(handler=_serve)
