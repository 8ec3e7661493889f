"""Where an LNURL-pay service lives: Lightning Addresses (LUD-16), bech32 LNURLs (LUD-01), ``lnurlp://``
URLs (LUD-17) and plain URLs, and which URLs lnnotebook will talk to at all.

The policy (the issue's, after LUD-01 "HTTPS or Onion"): ``https://`` anywhere; plain ``http://`` only to
an ``.onion`` host or a loopback host (the sandbox), or to the address's own host when the user passed
``allow_insecure=True``. A callback or verify URL the service hands out must pass the same policy, and may
point at a loopback host only when the service itself is on one (a remote service must not make a
notebook call into its own machine).

The bech32 arithmetic is the BOLT11 package's (``lnnotebook.bolt11.bech32``); LNURLs have no length limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from lnnotebook.bolt11 import bech32
from lnnotebook.bolt11.constants import BECH32_CONST
from lnnotebook.providers.errors import ConfigurationError
from lnnotebook.providers.lnurl.wire import (
    ADDRESS_NAME_CHARACTERS,
    LNURL_HRP,
    NAME,
    PAY_SCHEME,
    WELL_KNOWN_PATH,
)
from lnnotebook.transport import is_loopback

_CHECKSUM_LENGTH = 6
_LIGHTNING_PREFIX = "lightning:"


@dataclass(frozen=True)
class Target:
    """An LNURL-pay endpoint: ``url`` is what the first GET goes to; ``address`` is ``name@domain`` when
    it was given as a Lightning Address; ``form`` says how it was given (address, lnurl, lnurlp, url)."""

    url: str
    address: str | None
    form: str

    @property
    def host(self) -> str:
        return (urlsplit(self.url).hostname or "").lower()

    @property
    def label(self) -> str:
        """The address, else the URL (how errors and rows name the service)."""
        return self.address or self.url


def _error(message: str, field: str = "address") -> ConfigurationError:
    return ConfigurationError(message, provider=NAME, field=field)


def is_onion(host: str) -> bool:
    return host.lower().rstrip(".").endswith(".onion")


def url_problem(url: str, *, allow_insecure: bool = False, allow_loopback: bool = True) -> str | None:
    """Why lnnotebook will not send a request to ``url``, or None (the policy in the module docstring)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        return f"{url!r} is not an http(s) URL with a host"
    if parts.username is not None or parts.password is not None:
        return f"{url!r} carries credentials in the URL; LNURL-pay has none"
    try:
        parts.port  # noqa: B018 (raises on a malformed port)
    except ValueError:
        return f"{url!r} has a malformed port"
    if is_loopback(host) and not allow_loopback:
        return f"{url!r} points at a loopback host, but the service is not on one"
    if parts.scheme == "http" and not (is_onion(host) or is_loopback(host) or allow_insecure):
        return (
            f"{url!r} is plain http:// to {host!r}; LNURL allows https://, or http:// only for .onion hosts"
        )
    return None


def decode_lnurl(text: str) -> str:
    """The URL inside a bech32 LNURL (LUD-01); upper or lower case, never mixed; a ``lightning:`` prefix
    is dropped. Raises ``ConfigurationError`` saying what is wrong."""
    given = text.strip()
    if given[: len(_LIGHTNING_PREFIX)].lower() == _LIGHTNING_PREFIX:
        given = given[len(_LIGHTNING_PREFIX) :]
    if given != given.lower() and given != given.upper():
        raise _error("a bech32 LNURL is all upper case or all lower case, not mixed (LUD-01)")
    lowered = given.lower()
    hrp, separator, data = lowered.rpartition("1")
    if not separator or hrp != LNURL_HRP:
        raise _error(f"a bech32 LNURL starts with {LNURL_HRP}1; got {given[:12]!r}...")
    invalid = sorted(set(data) - set(bech32.CHARSET))
    if invalid:
        raise _error(f"the LNURL holds characters that are not bech32: {''.join(invalid)!r}")
    if len(data) < _CHECKSUM_LENGTH:
        raise _error("the LNURL is too short to hold a bech32 checksum")
    groups = bech32.text_to_groups(data)
    if bech32.residue(hrp, groups) != BECH32_CONST:
        raise _error("the LNURL's bech32 checksum does not match (a typo, or a truncated string)")
    raw = bech32.groups_to_bytes(groups[:-_CHECKSUM_LENGTH])
    if raw is None:
        raise _error("the LNURL's data part has invalid padding bits")
    try:
        url = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _error("the LNURL does not hold UTF-8 text") from None
    return url


def encode_lnurl(url: str, *, upper: bool = True) -> str:
    """``url`` as a bech32 LNURL (LUD-01); upper case by default, as QR codes should carry it."""
    if not isinstance(url, str) or not url:
        raise _error("encode_lnurl needs a URL string", field="url")
    encoded = bech32.encode(LNURL_HRP, bech32.bytes_to_groups(url.encode("utf-8")))
    return encoded.upper() if upper else encoded


def parse_target(text: str, *, allow_insecure: bool = False) -> Target:
    """The endpoint behind a Lightning Address, a bech32 LNURL, an ``lnurlp://`` URL or an http(s) URL."""
    if not isinstance(text, str) or not text.strip():
        raise _error("address must be a Lightning Address (name@domain), an lnurl1... string or a URL")
    given = text.strip()
    if given[: len(_LIGHTNING_PREFIX)].lower() == _LIGHTNING_PREFIX:
        given = given[len(_LIGHTNING_PREFIX) :]
    lowered = given.lower()
    if lowered.startswith(LNURL_HRP + "1"):
        target = Target(decode_lnurl(given), None, "lnurl")
    elif lowered.startswith(PAY_SCHEME + "://"):
        rest = given[len(PAY_SCHEME) + 3 :]
        host = urlsplit("//" + rest).hostname or ""
        scheme = "http" if is_onion(host) or is_loopback(host) else "https"
        target = Target(f"{scheme}://{rest}", None, "lnurlp")
    elif "://" in given:
        target = Target(given, None, "url")
    elif "@" in given:
        target = _lightning_address(given)
    else:
        raise _error(f"{given!r} is not a Lightning Address (name@domain), an lnurl1... string or a URL")
    problem = url_problem(target.url, allow_insecure=allow_insecure)
    if problem:
        raise _error(f"{target.label}: {problem}")
    return target


def _lightning_address(text: str) -> Target:
    name, _, domain = text.rpartition("@")
    name, domain = name.lower(), domain.lower()  # LUD-16: wallets lower-case what people type
    if not name or any(character not in ADDRESS_NAME_CHARACTERS for character in name):
        raise _error(
            f"{text!r}: the name of a Lightning Address uses only a-z, 0-9, '-', '_' and '.' (LUD-16)"
        )
    try:
        parts = urlsplit("//" + domain)
        host, _port = parts.hostname or "", parts.port
    except ValueError:
        host = ""
    if not host or parts.path or parts.query or parts.fragment or "@" in domain:
        raise _error(f"{text!r}: {domain!r} is not a domain name (a port is allowed: host:port)")
    scheme = "http" if is_onion(host) or is_loopback(host) else "https"
    url = f"{scheme}://{domain}" + WELL_KNOWN_PATH.format(name=name)
    return Target(url, f"{name}@{domain}", "address")


__all__ = ["Target", "decode_lnurl", "encode_lnurl", "is_onion", "parse_target", "url_problem"]
