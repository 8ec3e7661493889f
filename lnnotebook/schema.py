"""Every frame lnnotebook returns, its columns and their dtypes, in one place.

Each table maps a column to its pandas dtype (nullable: ``Int64``, ``Float64``, ``string``,
``boolean``; timestamps are ``datetime64[ns, UTC]``; ``object`` holds decoded JSON). The code that
builds a frame and ``lnnotebook.read_csv``, which gives a CSV its dtypes back, both read them here.

``FRAMES`` names every kind of frame with the shape of its index (what ``to_csv`` writes as the
leading columns), so ``read_csv`` can tell a kind from a CSV header by exact match.

This module imports nothing else of lnnotebook: anything may use it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

UTC_TIME = "datetime64[ns, UTC]"

# ``decode_frame``: one row per invoice.
INVOICE_COLUMNS: dict[str, str] = {
    "bolt11": "string",
    "network": "string",
    "amount_msat": "Int64",
    "amount_sat": "Float64",
    "amount_overflow": "boolean",  # beyond int64: amount_msat is missing, and not for "any amount"
    "timestamp": "Int64",
    "created_at": UTC_TIME,
    "expires_at": UTC_TIME,
    "expiry": "Int64",
    "payment_hash": "string",
    "payment_secret": "string",
    "description": "string",
    "description_hash": "string",
    "payee": "string",
    "min_final_cltv_expiry": "Int64",
    "fallback_addresses": "string",  # comma-separated; NA when there are none
    "route_hint_count": "Int64",
    "hop_count": "Int64",
    "features": "string",  # comma-separated BOLT 9 names, unknown_<bit> otherwise
    "feature_bits": "string",  # comma-separated bit numbers
    "metadata": "string",
    "signature": "string",
    "warnings": "string",  # "; "-separated, NA when there are none
    "error": "string",
    "error_type": "string",
    "input": "string",  # the text of a row that failed, as given (NA for decoded rows: see bolt11)
}

# ``hops_frame``: one row per route-hint hop, indexed by (invoice..., route, hop).
HOP_COLUMNS: dict[str, str] = {
    "pubkey": "string",
    "short_channel_id": "string",
    "fee_base_msat": "Int64",
    "fee_proportional_millionths": "Int64",
    "cltv_expiry_delta": "Int64",
    "error": "string",
    "error_type": "string",
}
HOP_INDEX: dict[str, str] = {"route": "Int64", "hop": "Int64"}

# The ledger's rows (``Ledger.invoices()``, and ``history()`` before the decoded columns).
HISTORY_COLUMNS: dict[str, str] = {
    "id": "Int64",
    "provider": "string",
    "provider_id": "string",
    "bolt11": "string",
    "amount_sat": "Int64",
    "memo": "string",
    "expiry": "Int64",
    "fee_sat": "Int64",
    "status": "string",
    "created_at": UTC_TIME,
    "updated_at": UTC_TIME,
    "note": "string",
    "reference": "string",  # the client reference sent with the create (lost answers are matched on it)
    "raw": "object",  # the provider's response as a dict, secrets removed
    "error": "string",
    "error_type": "string",
}

# The fields of ``CreatedInvoice`` but ``provider``, in order (tests check they match the dataclass).
CREATED_FIELDS: tuple[str, ...] = (
    "provider_id",
    "bolt11",
    "amount_sat",
    "memo",
    "expiry",
    "fee_sat",
    "status",
    "created_at",
    "raw",
    "note",
)

# ``create_invoices`` before the decoded columns: the attempt, the record, the error.
CREATED_COLUMNS: dict[str, str] = {
    "provider": "string",
    "repeat": "Int64",
    "elapsed_s": "Float64",
    **{name: HISTORY_COLUMNS[name] for name in CREATED_FIELDS},
    "error": HISTORY_COLUMNS["error"],
    "error_type": HISTORY_COLUMNS["error_type"],
}

# ``Ledger.refresh()``: one row per pending invoice asked about.
REFRESH_COLUMNS: dict[str, str] = {
    "id": "Int64",
    "provider": "string",
    "provider_id": "string",
    "old_status": "string",
    "status": "string",
    "changed": "boolean",
    "error": "string",
}

# ``Ledger.reconcile()``: one row per unknown attempt asked about.
RECONCILE_COLUMNS: dict[str, str] = {
    "id": "Int64",
    "provider": "string",
    "reference": "string",
    "resolution": "string",  # created, not created, never paid, unknown
    "provider_id": "string",
    "bolt11": "string",
    "error": "string",
}

# ``Ledger.status_changes()``.
STATUS_CHANGE_COLUMNS: dict[str, str] = {
    "invoice_id": "Int64",
    "old_status": "string",
    "new_status": "string",
    "changed_at": UTC_TIME,
}

# ``compare()``: one row per provider (index ``provider``).
COMPARE_COLUMNS: dict[str, str] = {
    "invoices": "Int64",  # created without a provider error
    "failures": "Int64",  # attempts that ended in a provider error
    "failure_rate": "Float64",  # failures / (invoices + failures)
    "undecodable": "Int64",  # created, but without a BOLT11 string that decodes (missing or invalid)
    "amount_sat_mean": "Float64",
    "amount_sat_min": "Int64",
    "amount_sat_max": "Int64",
    "fee_sat_mean": "Float64",  # the provider's receive fee, over the invoices that report one
    "fee_ppm_mean": "Float64",  # the same fee in millionths of each invoice's amount
    "route_hinted": "Int64",  # decoded invoices with at least one route hint
    "route_fee_sat_mean": "Float64",
    "route_fee_sat_median": "Float64",
    "route_fee_ppm_mean": "Float64",
    "route_fee_ppm_median": "Float64",
    "expiry_s_min": "Int64",  # the decoded, effective expiry (3600 when the invoice has no `x`)
    "expiry_s_median": "Float64",
    "expiry_s_max": "Int64",
    "network": "string",  # comma-separated when a provider's invoices span several
    "payees": "Int64",  # distinct payee node keys
    "latency_s_median": "Float64",  # create call duration (``elapsed_s``), successful invoices only
}
COMPARE_INDEX: dict[str, str] = {"provider": "string"}

# ``comparison.invoice_metrics()``: per-invoice quantities behind ``compare`` and the charts.
METRIC_COLUMNS: dict[str, str] = {
    "provider": "string",
    "failed": "boolean",
    "decoded": "boolean",
    "amount_sat": "Int64",
    "fee_sat": "Int64",
    "fee_ppm": "Float64",
    "route_count": "Int64",
    "route_fee_msat": "Int64",
    "route_fee_ppm": "Float64",
    "expiry_s": "Int64",
    "network": "string",
    "payee": "string",
    "elapsed_s": "Float64",
}

# ``offers_frame``: one row per BOLT 12 offer.
OFFER_COLUMNS: dict[str, str] = {
    "bolt12": "string",
    "offer_id": "string",
    "networks": "string",  # comma-separated names; "bitcoin" when the offer lists no chains
    "chains": "string",  # comma-separated chain hashes as encoded; NA without offer_chains
    "metadata": "string",
    "currency": "string",  # ISO 4217; NA when the amount is in msat
    "amount": "Int64",  # raw offer_amount: msat, or the currency's minor units
    "amount_msat": "Int64",  # NA when the offer has a currency (or no amount)
    "amount_sat": "Float64",
    "description": "string",
    "issuer": "string",
    "issuer_id": "string",
    "quantity_max": "Int64",  # NA: one item per invoice; 0: any quantity
    "quantity_unlimited": "boolean",
    "absolute_expiry": "Int64",
    "expires_at": UTC_TIME,
    "features": "string",  # comma-separated names, unknown_<bit> otherwise
    "feature_bits": "string",
    "path_count": "Int64",
    "hop_count": "Int64",
    "record_count": "Int64",
    "unknown_types": "string",  # comma-separated TLV types the reader does not know
    "warnings": "string",  # "; "-separated, NA when there are none
    "error": "string",
    "error_type": "string",
    "input": "string",  # the text of a failed row (NA for rows that decoded)
}

# ``offer_paths_frame``: one row per blinded hop of each offer's paths.
OFFER_PATH_COLUMNS: dict[str, str] = {
    "introduction_node_id": "string",
    "short_channel_id": "string",
    "direction": "Int64",
    "path_key": "string",
    "blinded_node_id": "string",
    "encrypted_recipient_data": "string",
    "error": "string",
    "error_type": "string",
    "input": "string",
}

# ``read_invoices``: the columns every node or wallet-server export gives (the decoded ones follow).
NODE_INVOICE_COLUMNS: dict[str, str] = {
    "source": "string",  # the export's format: lnd, cln, lnbits
    "label": "string",  # the node's key: lnd's add_index, Core Lightning's label, LNbits' checking_id
    "kind": "string",  # bolt11, bolt12, keysend or amp (the last two: lnd, paid without an invoice string)
    "status": "string",  # pending, paid, expired, canceled
    "node_status": "string",  # the node's own word: SETTLED, unpaid, success, ...
    "amount_msat": "Int64",  # asked for; missing when the invoice is for any amount
    "amount_received_msat": "Int64",  # missing unless paid
    "fee_msat": "Int64",  # the wallet server's fee on receiving (LNbits); nodes charge none
    "created_at": UTC_TIME,
    "paid_at": UTC_TIME,
    "expires_at": UTC_TIME,
    "payment_hash": "string",
    "bolt11": "string",
    "bolt12": "string",
    "memo": "string",
}

# decode_frame columns that the node's own columns replace in ``read_invoices`` (the node's values win).
NODE_SHADOWED: tuple[str, ...] = (
    "bolt11",
    "amount_msat",
    "amount_sat",
    "created_at",
    "expires_at",
    "payment_hash",
)
NODE_DECODED_COLUMNS: dict[str, str] = {
    name: dtype for name, dtype in INVOICE_COLUMNS.items() if name not in NODE_SHADOWED
}

# Decoded columns joined to a provider frame: the decoder's own error columns, and the names that
# clash with the provider's record (``amount_sat`` is what the provider says, ``invoice_amount_sat``
# what the signed invoice says); its ``bolt11`` (identical) is dropped.
DECODE_ERROR_RENAMES: dict[str, str] = {"error": "decode_error", "error_type": "decode_error_type"}


def decoded_renames(columns: Sequence[str] | Mapping[str, str]) -> dict[str, str]:
    """How ``decode_frame`` columns are renamed when joined to a frame with these ``columns``."""
    present = set(columns)
    renames = dict(DECODE_ERROR_RENAMES)
    renames.update(
        {name: f"invoice_{name}" for name in INVOICE_COLUMNS if name in present and name not in renames}
    )
    return renames


# Joined to a provider frame whose ``amount_sat`` is whole sats (Int64), the decoded amount in sat is
# Int64 too, so the two compare as equals; a fractional-sat amount is missing there (``invoice_amount_msat``
# holds it exactly).
JOINED_DTYPES: dict[str, str] = {"amount_sat": "Int64"}


def with_decoded(own: Mapping[str, str]) -> dict[str, str]:
    """``own`` columns followed by the joined ``decode_frame`` columns, renamed as ``decoded_renames``."""
    renames = decoded_renames(own)
    decoded = {
        renames.get(name, name): JOINED_DTYPES.get(name, dtype)
        for name, dtype in INVOICE_COLUMNS.items()
        if name != "bolt11"
    }
    return {**own, **decoded}


@dataclass(frozen=True)
class FrameSchema:
    """One kind of frame: its columns, and the index ``to_csv`` writes before them.

    ``index``: the named index levels the schema fixes (with dtypes), last in the index; ``free_levels``:
    how many levels come before them that the frame takes from its input (any name: ``row`` when it had
    none); None means one or more. ``optional``: columns a file may lack (``to_csv`` leaves ``raw`` out
    unless asked).
    """

    name: str
    columns: Mapping[str, str]
    index: Mapping[str, str] = field(default_factory=dict)
    free_levels: int | None = 1
    optional: frozenset[str] = frozenset()

    def dtypes(self) -> dict[str, str]:
        """Every column and fixed index level with its dtype."""
        return {**self.columns, **self.index}

    def index_width(self, header: Sequence[str]) -> int | None:
        """How many leading columns of ``header`` are the index, or None when it has no such index."""
        fixed = list(self.index)
        if self.free_levels is not None:
            width = self.free_levels + len(fixed)
            return width if list(header[self.free_levels : width]) == fixed and len(header) >= width else None
        for start in range(1, len(header) - len(fixed) + 1):  # one or more free levels, then the fixed
            if list(header[start : start + len(fixed)]) == fixed:
                return start + len(fixed)
        return None

    def matches(self, header: Sequence[str]) -> bool:
        """True when ``header`` is exactly this frame's: its index, then its columns (any order)."""
        width = self.index_width(header)
        if width is None:
            return False
        rest = list(header[width:])
        required = set(self.columns) - self.optional
        return len(rest) == len(set(rest)) and required <= set(rest) <= set(self.columns)


_RAW = frozenset({"raw"})  # the provider's answer: out of a CSV unless to_csv(raw=True)
_FRAMES: dict[str, FrameSchema] = {
    "decode_frame": FrameSchema("decode_frame", INVOICE_COLUMNS),
    "hops_frame": FrameSchema("hops_frame", HOP_COLUMNS, index=HOP_INDEX, free_levels=None),
    "create_invoices": FrameSchema("create_invoices", with_decoded(CREATED_COLUMNS), optional=_RAW),
    "history": FrameSchema("history", with_decoded(HISTORY_COLUMNS), optional=_RAW),
    "compare": FrameSchema("compare", COMPARE_COLUMNS, index=COMPARE_INDEX, free_levels=0),
    "invoice_metrics": FrameSchema("invoice_metrics", METRIC_COLUMNS),
    "refresh": FrameSchema("refresh", REFRESH_COLUMNS),
    "reconcile": FrameSchema("reconcile", RECONCILE_COLUMNS),
    "status_changes": FrameSchema("status_changes", STATUS_CHANGE_COLUMNS),
    "offers_frame": FrameSchema("offers_frame", OFFER_COLUMNS),
    "read_invoices": FrameSchema("read_invoices", {**NODE_INVOICE_COLUMNS, **NODE_DECODED_COLUMNS}),
}
# Read-only view; ``register_frame`` adds a kind (e.g. a frame of a third-party extension).
FRAMES: Mapping[str, FrameSchema] = MappingProxyType(_FRAMES)


def register_frame(schema: FrameSchema) -> None:
    """Make ``read_csv`` know another kind of frame (refused when the name is taken)."""
    if schema.name in _FRAMES:
        raise ValueError(f"a frame schema named {schema.name!r} exists already")
    _FRAMES[schema.name] = schema


def unregister_frame(name: str) -> None:
    """Forget a kind added with ``register_frame`` (lnnotebook's own kinds cannot be removed)."""
    if name in _BUILT_IN:
        raise ValueError(f"{name!r} is one of lnnotebook's own frame schemas")
    _FRAMES.pop(name, None)


_BUILT_IN = frozenset(_FRAMES)


__all__ = [
    "NODE_DECODED_COLUMNS",
    "NODE_INVOICE_COLUMNS",
    "OFFER_COLUMNS",
    "OFFER_PATH_COLUMNS",
    "COMPARE_COLUMNS",
    "CREATED_COLUMNS",
    "CREATED_FIELDS",
    "FRAMES",
    "HISTORY_COLUMNS",
    "HOP_COLUMNS",
    "HOP_INDEX",
    "INVOICE_COLUMNS",
    "JOINED_DTYPES",
    "METRIC_COLUMNS",
    "REFRESH_COLUMNS",
    "STATUS_CHANGE_COLUMNS",
    "FrameSchema",
    "decoded_renames",
    "register_frame",
    "unregister_frame",
    "with_decoded",
]
