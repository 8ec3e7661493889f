"""The reader rules of BOLT #11 applied to fields already read (``lnnotebook.bolt11.fields``).

``strict=True`` fails on every MUST-fail reader rule, including bolts #1243 (a ``p``, ``h``, ``s`` or ``n``
field of the wrong length fails the invoice). ``strict=False`` turns what only makes an invoice unpayable
into warnings: missing ``s``, missing or doubled ``d``/``h``, unknown even feature bits, wrong-length known
fields (skipped), invalid UTF-8 descriptions (replaced), leading zeros in the amount, malformed route hints
(skipped). Integrity failures (checksum, signature, truncation, malformed amounts) are never the rules'
business: they fail in every mode, earlier.

Duplicates: of a single-valued field the first is used and each later one is a warning. A wrong-length
``p``/``s``/``h``/``n`` does not count as that field at all (it fails in strict mode, is skipped in lenient
mode, and a later well-formed one is then used); a non-minimal ``x``/``c`` is flagged wherever it stands;
later ``d``/``9``/``m`` fields are ignored without looking at their content.
"""

from __future__ import annotations

from collections.abc import Iterable

from lnnotebook.bolt11.errors import FormatError, MissingFieldError
from lnnotebook.bolt11.fields import SKIP, Flawed, Issue

_CHECKED_BEFORE_DUPLICATES = frozenset("pshnxc")


def settle(issues: Iterable[Issue], field: str, strict: bool, warnings: list[str]) -> None:
    """Raise the first issue that fails the invoice in this mode; record the others as warnings."""
    for issue in issues:
        if strict and issue.error is not None:
            raise issue.error(issue.message, field=field)
        warnings.append(issue.message if issue.lenient_message is None else issue.lenient_message)


def apply(
    fields: Iterable[tuple[str, object]], strict: bool, warnings: list[str], *, complete: bool = True
) -> tuple[dict[str, object], list[object], list[object]]:
    """(first value of each single-valued tag, fallback addresses, route hints) of the read fields, in
    order; raises the first error the mode demands and appends warnings for the rest. ``complete=False``
    (fields before a truncation) skips the required-field checks."""
    first: dict[str, object] = {}
    fallbacks: list[object] = []
    routes: list[object] = []
    for tag, value in fields:
        if type(value) is Flawed or tag in first or value is SKIP:  # the rare cases, off the fast path
            if tag in first and tag not in _CHECKED_BEFORE_DUPLICATES:
                warnings.append(f"more than one '{tag}' field, the first is used")
                continue
            if type(value) is Flawed:
                settle(value.issues, tag, strict, warnings)
                value = value.value
            if value is SKIP:
                continue
            if tag in first:
                warnings.append(f"more than one '{tag}' field, the first is used")
                continue
        if tag == "f":
            fallbacks.append(value)
        elif tag == "r":
            routes.append(value)
        else:
            first[tag] = value
    if complete:
        require(first, strict, warnings)
    return first, fallbacks, routes


def require(first: dict[str, object], strict: bool, warnings: list[str]) -> None:
    """The fields an invoice must have: ``p`` always; ``s`` and exactly one of ``d``/``h`` in strict mode.

    Every ``d`` field is in ``first`` once read (an unreadable one fails or is kept repaired), so "both d
    and h" counts it; a wrong-length ``h`` is not a description hash at all."""
    if "p" not in first:
        raise MissingFieldError("the invoice has no payment hash (field 'p')", field="p")
    if "s" not in first:
        message = "the invoice has no payment secret (field 's')"
        if strict:
            raise MissingFieldError(message + ", which the spec requires", field="s")
        warnings.append(message)
    described, hashed = "d" in first, "h" in first
    if not described and not hashed:
        message = "the invoice has neither a description (d) nor a description hash (h)"
        if strict:
            raise MissingFieldError(message + "; the spec requires one of them", field="d")
        warnings.append(message)
    elif described and hashed:
        message = "the invoice has both a description (d) and a description hash (h)"
        if strict:
            raise FormatError(message + "; the spec requires exactly one of them", field="h")
        warnings.append(message)
