"""A WSGI app served by werkzeug on 127.0.0.1 (a free port), in a background thread, quietly.

Quiet on purpose: request lines hold credentials (wallet keys in paths, ``?access-token=``), so nothing
about a request is ever logged; and clients that hang up (timeouts, resets) are expected in fault tests.
"""

from __future__ import annotations

import threading
from typing import Any

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler


class _Handler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30  # an idle connection is closed after this

    def log(self, type: str, message: str, *args: Any) -> None:  # noqa: A002 (werkzeug's signature)
        pass

    def connection_dropped(self, error: BaseException, environ: Any = None) -> None:
        # An emulator dropped the connection (emulation.faults.drop_connection) or the client went
        # away: do not wait for another request on it.
        self.close_connection = True

    def version_string(self) -> str:
        return getattr(self.server, "server_header", "emulator")


class _Server(ThreadedWSGIServer):
    daemon_threads = True

    def log(self, type: str, message: str, *args: Any) -> None:  # noqa: A002
        pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


class BackgroundServer:
    """``app`` on ``http://127.0.0.1:<free port>`` until ``stop()``; ``server_header`` is its Server."""

    def __init__(self, app: Any, *, name: str, server_header: str = "emulator") -> None:
        self._server = _Server("127.0.0.1", 0, app, handler=_Handler)
        self._server.server_header = server_header  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True
        )
        self._thread.start()

    @property
    def origin(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host if isinstance(host, str) else host.decode()}:{port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


__all__ = ["BackgroundServer"]
