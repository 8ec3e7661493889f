"""Fault injection: what ``Sandbox.inject(name, fault, times, stage=...)`` makes an emulator do.

Each queued fault is consumed by the next request to that emulator, whatever its path. Stage "before"
(default) fails the request before the emulator looks at it, so nothing is minted; stage "after" lets
the emulator process the request (and mint) and then spoils the answer, which is what a lost response
looks like to a client.

* ``timeout``: hold the request ``stall_seconds`` (the client's read timeout fires first), then close;
* ``reset``: a real TCP RST (SO_LINGER 0, then close), no answer;
* ``500``, ``503``, ``429`` (with ``Retry-After``), ``401``: the provider's own error body;
* ``malformed``: 200 with a truncated JSON body.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections import deque
from typing import Any, NoReturn

FAULTS = ("timeout", "reset", "500", "503", "429", "401", "malformed")
STAGES = ("before", "after")
STATUS_FAULTS = frozenset({"500", "503", "429", "401"})
RETRY_AFTER_FAULTS = frozenset({"429", "503"})
MALFORMED_BODY = b'{"status": "success", "data": {"id": "tru'
# The generic wording of injected status faults (an emulator may use its provider's own instead).
FAULT_MESSAGES = {
    "500": "Internal server error",
    "503": "Service unavailable",
    "429": "Too many requests",
    "401": "invalid credentials",
}


class ConnectionDropped(ConnectionError):
    """Raised out of an emulator's WSGI app to end the connection without answering.

    A ``ConnectionError`` so werkzeug's request handler treats it as a dropped connection (no error
    page, no log); the server's handler then closes the connection (``emulation.server``).
    """


class FaultQueue:
    """The faults queued for one emulator, consumed one per request (thread-safe)."""

    def __init__(self) -> None:
        self._queue: deque[tuple[str, str]] = deque()
        self._lock = threading.Lock()

    def add(self, fault: str, times: int = 1, stage: str = "before") -> None:
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; expected one of {', '.join(FAULTS)}")
        if stage not in STAGES:
            raise ValueError(f"stage must be 'before' or 'after', got {stage!r}")
        if not isinstance(times, int) or isinstance(times, bool) or times < 1:
            raise ValueError(f"times must be a positive integer, got {times!r}")
        with self._lock:
            self._queue.extend([(fault, stage)] * times)

    def next(self) -> tuple[str | None, str | None]:
        """(fault, stage) for the request being served, or (None, None)."""
        with self._lock:
            return self._queue.popleft() if self._queue else (None, None)

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._queue)


def drop_connection(environ: dict[str, Any], *, reset: bool) -> NoReturn:
    """End the request's connection without an answer: with a TCP RST when ``reset``, else a FIN.

    werkzeug's development server puts the connection's socket in ``environ["werkzeug.socket"]``.
    ``close()`` only marks it closed while the handler still holds its file objects; the real close
    (an RST with SO_LINGER 0) happens when the handler lets go of them, right after this request.
    """
    connection: socket.socket = environ["werkzeug.socket"]
    if reset:
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.close()
    raise ConnectionDropped(
        "connection reset by the sandbox" if reset else "request timed out in the sandbox"
    )


__all__ = [
    "FAULTS",
    "FAULT_MESSAGES",
    "MALFORMED_BODY",
    "RETRY_AFTER_FAULTS",
    "STAGES",
    "STATUS_FAULTS",
    "ConnectionDropped",
    "FaultQueue",
    "drop_connection",
]
