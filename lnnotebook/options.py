"""Option resolution for provider clients: keyword arguments first, then environment variables.

The variable for option ``api_key`` of provider ``lnpay-legacy`` is ``LNNOTEBOOK_LNPAY_LEGACY_API_KEY``
(provider upper-cased, ``-`` replaced by ``_``). Values read from the environment are strings and
are converted to the option's type; conversion errors name the variable but never echo a secret.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lnnotebook.providers.errors import ConfigurationError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class Option:
    """One connect() option: its name, type, default, and whether it is a credential."""

    name: str
    kind: type = str
    default: Any = None
    required: bool = False
    secret: bool = False
    help: str = ""


def env_var(provider: str, option: str) -> str:
    """The environment variable that holds ``option`` for ``provider``."""
    return f"LNNOTEBOOK_{provider.upper().replace('-', '_')}_{option.upper()}"


def resolve_options(
    provider: str,
    specs: Iterable[Option],
    given: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Return a value for every option in ``specs``; raise ConfigurationError naming what is wrong."""
    environ = os.environ if environ is None else environ
    specs = list(specs)
    known = {spec.name for spec in specs}
    unknown = sorted(set(given) - known)
    if unknown:
        raise ConfigurationError(
            f"unknown option(s) {', '.join(map(repr, unknown))}; accepted: {', '.join(sorted(known))}",
            provider=provider,
            field=unknown[0],
        )
    resolved: dict[str, Any] = {}
    for spec in specs:
        variable = env_var(provider, spec.name)
        if given.get(spec.name) is not None:
            value, source = given[spec.name], f"argument {spec.name}="
        elif environ.get(variable, "") != "":
            value, source = environ[variable], f"environment variable {variable}"
        elif spec.default is not None or not spec.required:
            resolved[spec.name] = spec.default
            continue
        else:
            raise ConfigurationError(
                f"missing option {spec.name!r}: pass {spec.name}=... to connect() or set {variable}",
                provider=provider,
                field=spec.name,
            )
        resolved[spec.name] = _convert(provider, spec, value, source)
    return resolved


def _convert(provider: str, spec: Option, value: Any, source: str) -> Any:
    converted, ok = _try_convert(spec.kind, value)
    if ok:
        return converted
    # Raised outside any except block so no ValueError quoting the (possibly secret) value is chained.
    shown = "<redacted>" if spec.secret else repr(value)
    raise ConfigurationError(
        f"option {spec.name!r} from {source} must be a {_describe(spec.kind)}, got {shown}",
        provider=provider,
        field=spec.name,
    )


def _try_convert(kind: type, value: Any) -> tuple[Any, bool]:
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value, True
            text = str(value).strip().lower()
            return text in _TRUE, text in _TRUE | _FALSE
        if kind in (int, float):
            if isinstance(value, bool):
                return None, False
            number = kind(value)
            return number, number >= 0
        if kind is str:
            text = str(value).strip()
            return text, bool(text)
        return kind(value), True
    except (TypeError, ValueError, OverflowError):
        return None, False


def _describe(kind: type) -> str:
    return {
        bool: "boolean (true/false)",
        int: "non-negative integer",
        float: "non-negative number",
        str: "non-empty string",
    }.get(kind, kind.__name__)
