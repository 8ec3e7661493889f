"""The HTTP pieces every emulator uses, on werkzeug: routes, JSON bodies, replies, Basic credentials.

Routes are written with the same ``{name}`` placeholders as the paths in a provider's ``wire.py``, so the
client and its emulator share one spelling of every path.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_NO_DEFAULT = object()


@dataclass(frozen=True)
class Endpoint:
    """What a route leads to: the emulator method's name, and whether it needs credentials."""

    handler: str
    auth: bool = True


def route(method: str, path: str, handler: str, *, auth: bool = True) -> Rule:
    """A werkzeug rule for ``method path``; ``{name}`` in ``path`` matches one path segment."""
    return Rule(_PLACEHOLDER.sub(r"<\1>", path), methods=[method], endpoint=Endpoint(handler, auth))


def url_map(routes: Iterable[Rule]) -> Map:
    """A Map of copies of ``routes`` (a werkzeug Rule belongs to one Map; class-level routes are shared)."""
    return Map([rule.empty() for rule in routes], strict_slashes=False, merge_slashes=False)


def reply(
    status: int,
    body: Any = None,
    *,
    headers: Mapping[str, str] | None = None,
    content_type: str = "application/json",
) -> Response:
    """A response: ``body`` is JSON-encoded unless it is ``bytes``/``str`` (sent as is) or None (empty)."""
    if isinstance(body, bytes):
        data = body
    elif isinstance(body, str):
        data = body.encode()
    elif body is None:
        data = b""
    else:
        data = json.dumps(body).encode()
    return Response(data, status=status, headers=dict(headers or {}), content_type=content_type)


def is_json(request: Request) -> bool:
    """Whether the request says its body is JSON (``application/json`` or a ``+json`` type)."""
    mimetype = request.mimetype.lower()
    return mimetype == "application/json" or mimetype.endswith("+json")


def json_body(request: Request, *, default: Any = _NO_DEFAULT) -> tuple[Any, str | None]:
    """(decoded body, None), or (None, what is wrong in the parser's words).

    A blank body is ``default`` when one is given (some servers treat it as an empty document), else
    an error.
    """
    raw = request.get_data(cache=True)
    if not raw.strip() and default is not _NO_DEFAULT:
        return default, None
    try:
        return json.loads(raw.decode("utf-8")), None
    except UnicodeDecodeError as exc:
        return None, f"the body is not UTF-8 ({exc.reason} at byte {exc.start})"
    except json.JSONDecodeError as exc:
        return None, str(exc)


def basic_credentials(request: Request) -> tuple[str, str] | None:
    """(user, password) from ``Authorization: Basic``, or None when absent or malformed.

    Stricter than werkzeug's parser, which drops invalid base64 characters and accepts a blob without a
    ``:``; providers refuse both.
    """
    scheme, _, blob = (request.headers.get("Authorization") or "").partition(" ")
    if scheme.lower() != "basic" or not blob.strip():
        return None
    try:
        text = base64.b64decode(blob.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = text.partition(":")
    return (user, password) if sep else None


__all__ = [
    "Endpoint",
    "Request",
    "Response",
    "basic_credentials",
    "is_json",
    "json_body",
    "reply",
    "route",
    "url_map",
]
