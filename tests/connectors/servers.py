"""Real HTTP servers on 127.0.0.1 for the transport tests, each in its own thread.

The listening socket is bound before the server thread starts, so clients can
connect at once (the kernel queues them) and nothing waits for start-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

from connectors.signing import MessageKey, TrustedKeys, generate_key_file

_STOP_TIMEOUT_S = 10.0


def bound_socket(port: int = 0) -> socket.socket:
    """A TCP socket listening on 127.0.0.1 (``port`` 0: any free port)."""
    # IPPROTO_TCP explicitly: asyncio turns Nagle off (TCP_NODELAY) only on sockets
    # whose proto says TCP, and Nagle with delayed ACKs costs 40 ms per request.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    return sock


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with contextlib.closing(bound_socket()) as sock:
        port: int = sock.getsockname()[1]
    return port


class ServerThread:
    """uvicorn serving ``app`` on a pre-bound socket in a background thread."""

    def __init__(self, app: ASGIApp, sock: socket.socket) -> None:
        self.sock = sock
        self.port: int = sock.getsockname()[1]
        config = uvicorn.Config(
            app, log_level="warning", access_log=False, timeout_graceful_shutdown=1
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        """Base URL of the server."""
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        asyncio.run(self.server.serve(sockets=[self.sock]))

    def start(self) -> ServerThread:
        """Start serving."""
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.server.should_exit = True
        self.thread.join(_STOP_TIMEOUT_S)
        assert not self.thread.is_alive(), "server thread did not stop"
        self.sock.close()

    def connections(self) -> int:
        """Connections the server holds open right now."""
        return len(self.server.server_state.connections)


@contextlib.contextmanager
def serving(app: ASGIApp, port: int = 0) -> Iterator[ServerThread]:
    """Serve ``app`` on 127.0.0.1 for the duration of the block."""
    server = ServerThread(app, bound_socket(port)).start()
    try:
        yield server
    finally:
        server.stop()


def key_pair(directory: Path, name: str) -> tuple[MessageKey, TrustedKeys]:
    """A new private key under ``directory`` and the trust set of its public half."""
    key, _ = generate_key_file(directory / f"{name}.pem")
    return key, TrustedKeys([key.public_key])
