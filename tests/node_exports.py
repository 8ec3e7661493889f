"""Invoice exports in the exact shapes lnd, Core Lightning and LNbits print, with real signed invoices.

The field names and types follow each program's own definitions:

* lnd: lnrpc ``Invoice`` / ``ListInvoiceResponse`` (lightning.proto) printed as protobuf JSON with proto
  names and unpopulated fields (``lncli`` and the REST proxy both do): int64/uint64 as strings, int32 as
  numbers, enums by name, bytes as hex (``lncli``) or base64 (REST), unset message fields as null.
* Core Lightning: the ``listinvoices`` response schema (doc/schemas), today's integer msat and the
  ``"...msat"`` strings plus ``msatoshi`` of releases before 0.12.
* LNbits: ``GET /api/v1/payments`` of LNbits 1.6.2 as the real server answers it (the keys are checked
  against a live server in tests/test_nodes_lnbits.py), and the pre-1.0 shape with ``pending``.

Every BOLT11 string is made by lnnotebook's encoder from the invoice's facts, so it decodes and verifies.
``python tests/node_exports.py`` rewrites the package's example exports (lnnotebook/nodes/examples/).
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import sys
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))

from lnnotebook.bolt11 import encode_invoice  # noqa: E402
from lnnotebook.synthetic import NODE_KEYS  # noqa: E402

EXAMPLES = ROOT / "lnnotebook" / "nodes" / "examples"
EXAMPLE_FILES = {
    "lnd": "lnd_listinvoices.json",
    "cln": "cln_listinvoices.json",
    "lnbits": "lnbits_payments.json",
}
PRICES_FILE = "btc_prices_synthetic.csv"
KEYSEND_RECORD = "5482373484"  # the TLV type that carries a keysend preimage


@dataclass
class Spec:
    """One invoice's facts, from which each program's export row is built."""

    seed: str
    amount_msat: int | None
    memo: str
    created: int  # unix seconds
    expiry: int  # seconds
    paid_at: int | None = None
    received_msat: int | None = None  # defaults to amount_msat when paid
    closed: bool = False  # lnd CANCELED, Core Lightning expired, LNbits failed
    kind: str = "bolt11"  # or keysend / amp (lnd, no invoice string) / bolt12 (Core Lightning)
    held: bool = False  # lnd ACCEPTED: a hold invoice whose HTLC is held
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def preimage(self) -> bytes:
        return hashlib.sha256(f"preimage {self.seed}".encode()).digest()

    @property
    def payment_hash(self) -> bytes:
        return hashlib.sha256(self.preimage).digest()

    @property
    def secret(self) -> bytes:
        return hashlib.sha256(f"secret {self.seed}".encode()).digest()

    @property
    def received(self) -> int | None:
        if self.paid_at is None:
            return None
        return self.received_msat if self.received_msat is not None else self.amount_msat

    @property
    def bolt11(self) -> str | None:
        if self.kind in ("keysend", "bolt12") or (self.kind == "amp" and not self.extra.get("amp_request")):
            return None
        return encode_invoice(
            private_key=NODE_KEYS[0],
            payment_hash=self.payment_hash.hex(),
            payment_secret=self.secret.hex(),
            amount_msat=self.amount_msat,
            timestamp=self.created,
            description=self.memo,
            expiry=self.expiry,
            min_final_cltv_expiry=80,
            features=(8, 14, 17, 30) if self.kind == "amp" else (8, 14, 17),
        )


# --- lnd ----------------------------------------------------------------------------------------------


def _lnd_bytes(raw: bytes, rest: bool) -> str:
    if not raw:
        return ""
    return base64.b64encode(raw).decode() if rest else raw.hex()


def lnd_invoice(spec: Spec, add_index: int, settle_index: int, *, rest: bool = False) -> dict[str, Any]:
    """lnrpc.Invoice as ``lncli listinvoices`` (hex bytes) or REST (``rest=True``, base64) prints it."""
    settled = spec.paid_at is not None and not spec.held and spec.kind != "amp"
    state = "SETTLED" if settled else "CANCELED" if spec.closed else "ACCEPTED" if spec.held else "OPEN"
    paid = spec.received if (settled or spec.kind == "amp") else None
    features = {
        "9": {"name": "tlv-onion", "is_required": False, "is_known": True},
        "14": {"name": "payment-addr", "is_required": True, "is_known": True},
        "17": {"name": "multi-path", "is_required": False, "is_known": True},
    }
    if spec.kind == "keysend":
        features = {"8": {"name": "tlv-onion", "is_required": True, "is_known": True}}
    if spec.kind == "amp":
        features["30"] = {"name": "amp", "is_required": True, "is_known": True}
    value_msat = spec.amount_msat or 0
    return {
        "memo": spec.memo if spec.kind == "bolt11" else "",
        "r_preimage": _lnd_bytes(b"" if spec.kind == "amp" else spec.preimage, rest),
        "r_hash": _lnd_bytes(spec.payment_hash, rest),
        "value": str(value_msat // 1000),
        "value_msat": str(value_msat),
        "settled": settled,
        "creation_date": str(spec.created),
        "settle_date": str(spec.paid_at if settled else 0),
        "payment_request": spec.bolt11 or "",
        "description_hash": "",
        "expiry": str(0 if spec.kind in ("keysend", "amp") and not spec.bolt11 else spec.expiry),
        "fallback_addr": "",
        "cltv_expiry": "80",
        "route_hints": [],
        "private": False,
        "add_index": str(add_index),
        "settle_index": str(settle_index if settled else 0),
        "amt_paid": str(paid or 0),  # deprecated; msat, despite the name
        "amt_paid_sat": str((paid or 0) // 1000),
        "amt_paid_msat": str(paid or 0),
        "state": state,
        "htlcs": _lnd_htlcs(spec, state, rest),
        "features": features,
        "is_keysend": spec.kind == "keysend",
        "payment_addr": _lnd_bytes(b"" if spec.kind == "keysend" else spec.secret, rest),
        "is_amp": spec.kind == "amp",
        "amp_invoice_state": _lnd_amp_state(spec),
        "is_blinded": False,
        "blinded_path_config": None,
    }


def _lnd_htlcs(spec: Spec, state: str, rest: bool) -> list[dict[str, Any]]:
    if spec.paid_at is None or state == "CANCELED":
        return []
    amount = spec.received or 0
    records = {KEYSEND_RECORD: _lnd_bytes(spec.preimage, rest)} if spec.kind == "keysend" else {}
    return [
        {
            "chan_id": "934209657640501249",
            "htlc_index": str(int(spec.payment_hash[0])),
            "amt_msat": str(amount),
            "accept_height": 850_123,
            "accept_time": str(spec.paid_at),
            "resolve_time": "0" if state == "ACCEPTED" else str(spec.paid_at),
            "expiry_height": 850_203,
            "state": "ACCEPTED" if state == "ACCEPTED" else "SETTLED",
            "custom_records": records,
            "mpp_total_amt_msat": str(amount),
            "amp": None,
            "custom_channel_data": "",
        }
    ]


def _lnd_amp_state(spec: Spec) -> dict[str, Any]:
    if spec.kind != "amp" or spec.paid_at is None:
        return {}
    set_id = hashlib.sha256(f"set {spec.seed}".encode()).hexdigest()
    return {
        set_id: {
            "state": "SETTLED",
            "settle_index": "1",
            "settle_time": str(spec.paid_at),
            "amt_paid_msat": str(spec.received),
        }
    }


def lnd_export(specs: list[Spec], *, rest: bool = False) -> dict[str, Any]:
    """ListInvoiceResponse: the invoices in add_index order and the page's index offsets."""
    invoices, settle_index = [], 0
    for add_index, spec in enumerate(specs, start=1):
        if spec.paid_at is not None and not spec.held and spec.kind != "amp":
            settle_index += 1
        invoices.append(lnd_invoice(spec, add_index, settle_index, rest=rest))
    return {
        "invoices": invoices,
        "last_index_offset": str(len(specs)),
        "first_index_offset": "1" if specs else "0",
    }


# --- Core Lightning --------------------------------------------------------------------------------------


def cln_invoice(spec: Spec, created_index: int, pay_index: int, *, old: bool = False) -> dict[str, Any]:
    """One ``listinvoices`` entry; ``old=True``: the pre-0.12 shape with "...msat" strings and msatoshi."""
    status = "paid" if spec.paid_at is not None else "expired" if spec.closed else "unpaid"
    entry: dict[str, Any] = {"label": spec.extra.get("label", spec.seed)}
    if spec.kind == "bolt12":
        entry["bolt12"] = "lni1" + hashlib.sha256(spec.seed.encode()).hexdigest()  # not decoded: opaque here
        entry["local_offer_id"] = hashlib.sha256(f"offer {spec.seed}".encode()).hexdigest()
    else:
        entry["bolt11"] = spec.bolt11
    entry["payment_hash"] = spec.payment_hash.hex()
    if spec.amount_msat is not None:
        if old:
            entry["msatoshi"] = spec.amount_msat
            entry["amount_msat"] = f"{spec.amount_msat}msat"
        else:
            entry["amount_msat"] = spec.amount_msat
    entry["status"] = status
    if status == "paid":
        entry["pay_index"] = pay_index
        if old:
            entry["msatoshi_received"] = spec.received
            entry["amount_received_msat"] = f"{spec.received}msat"
        else:
            entry["amount_received_msat"] = spec.received
        entry["paid_at"] = spec.paid_at
        entry["payment_preimage"] = spec.preimage.hex()
    entry["description"] = spec.memo
    entry["expires_at"] = spec.created + spec.expiry
    if not old:
        entry["created_index"] = created_index
        if status != "unpaid":
            entry["updated_index"] = pay_index if status == "paid" else created_index
    return entry


def cln_export(specs: list[Spec], *, old: bool = False) -> dict[str, Any]:
    invoices, pay_index = [], 0
    for created_index, spec in enumerate(specs, start=1):
        if spec.paid_at is not None:
            pay_index += 1
        invoices.append(cln_invoice(spec, created_index, pay_index, old=old))
    return {"invoices": invoices}


# --- LNbits -----------------------------------------------------------------------------------------------

LNBITS_WALLET = "46ea12eb595149ffa9942cfb80fb19c9"


def _iso(seconds: float, *, micro: bool = True) -> str:
    stamp = datetime.fromtimestamp(seconds, tz=timezone.utc)
    return stamp.isoformat(timespec="microseconds" if micro else "seconds")


def lnbits_payment(spec: Spec, *, outgoing: bool = False) -> dict[str, Any]:
    """One payment of ``GET /api/v1/payments`` as LNbits 1.6.2 prints it (see the module docstring)."""
    status = "success" if spec.paid_at is not None else "failed" if spec.closed else "pending"
    updated = spec.paid_at if spec.paid_at is not None else spec.created + (spec.expiry if spec.closed else 0)
    amount = spec.amount_msat or 0
    checking_id = spec.payment_hash.hex()
    return {
        "checking_id": f"internal_{checking_id}" if outgoing else checking_id,
        "payment_hash": spec.payment_hash.hex(),
        "wallet_id": LNBITS_WALLET,
        "amount": -amount if outgoing else amount,
        "fee": spec.extra.get("fee_msat", 0),
        "bolt11": spec.bolt11,
        "payment_request": spec.bolt11,
        "fiat_provider": None,
        "status": status,
        "memo": spec.memo,
        "expiry": _iso(spec.created + spec.expiry, micro=False),
        "webhook": None,
        "webhook_status": None,
        "preimage": spec.preimage.hex(),
        "tag": None,
        "extension": None,
        "time": _iso(spec.created + 0.288210),
        "created_at": _iso(spec.created + 0.288213),
        "updated_at": _iso(updated + 0.337713),
        "labels": [],
        "extra": {},
        "external_id": None,
    }


def lnbits_old_payment(spec: Spec) -> dict[str, Any]:
    """The same payment as LNbits before 1.0 printed it: ``pending`` and unix seconds."""
    return {
        "checking_id": spec.payment_hash.hex(),
        "pending": spec.paid_at is None,
        "amount": spec.amount_msat or 0,
        "fee": 0,
        "memo": spec.memo,
        "time": spec.created,
        "bolt11": spec.bolt11,
        "preimage": spec.preimage.hex(),
        "payment_hash": spec.payment_hash.hex(),
        "expiry": float(spec.created + spec.expiry),
        "extra": {},
        "wallet_id": LNBITS_WALLET,
        "webhook": None,
        "webhook_status": None,
    }


def lnbits_export(specs: list[Spec], outgoing: tuple[Spec, ...] = ()) -> list[dict[str, Any]]:
    """Newest first, as LNbits lists them; ``outgoing`` payments of the wallet mixed in."""
    rows = [lnbits_payment(spec) for spec in specs] + [
        lnbits_payment(spec, outgoing=True) for spec in outgoing
    ]
    return sorted(rows, key=lambda row: row["time"], reverse=True)


# --- the package's example exports ------------------------------------------------------------------------

EXPORTED_AT = int(datetime(2025, 6, 30, 18, 0, tzinfo=timezone.utc).timestamp())
_FIRST_DAY = EXPORTED_AT - 60 * 86_400
_MEMOS = ("Coffee", "Sticker pack", "Podcast tip", "Invoice {n}", "T-shirt (L)", "Donation", "VPN, 1 month")


def example_specs(source: str, count: int, default_expiry: int) -> list[Spec]:
    """A shop's two months of invoices: small amounts paid often and fast, large ones less often."""
    rng = random.Random(f"lnnotebook example export {source}")
    specs = []
    for n in range(count):
        created = _FIRST_DAY + int(n * (EXPORTED_AT - _FIRST_DAY - 7200) / count) + rng.randint(0, 3600)
        amount_sat = rng.choice((100, 250, 500, 1_000, 2_100, 5_000, 10_000, 21_000, 50_000, 150_000))
        expiry = rng.choice((600, 3600, default_expiry, default_expiry))
        pay_chance = 0.9 if amount_sat <= 5_000 else 0.6
        pay_chance *= 0.75 if expiry <= 600 else 1.0
        delay = int(min(rng.expovariate(1 / (60 + amount_sat / 200)), expiry - 1))
        paid = rng.random() < pay_chance and created + delay < EXPORTED_AT
        closed = not paid and created + expiry < EXPORTED_AT
        memo = rng.choice(_MEMOS).format(n=1000 + n)
        spec = Spec(
            f"{source}-{n}", amount_sat * 1000, memo, created, expiry, created + delay if paid else None
        )
        specs.append(replace(spec, closed=closed, extra={"label": f"order-{1000 + n}"}))
    return specs


def example_exports() -> dict[str, Any]:
    lnd = example_specs("lnd", 40, 86_400)
    keysends = [
        Spec(f"lnd-keysend-{n}", amount, "", created, 0, created, kind="keysend")
        for n, (amount, created) in enumerate(
            ((21_000, _FIRST_DAY + 86_400 * 9 + 600), (5_000_000, EXPORTED_AT - 86_400 * 3))
        )
    ]
    amp = Spec("lnd-amp-0", 42_000, "", EXPORTED_AT - 86_400 * 20, 0, EXPORTED_AT - 86_400 * 20, kind="amp")
    lnd_all = sorted(lnd + keysends + [amp], key=lambda spec: spec.created)
    cln = example_specs("cln", 40, 604_800)
    lnbits = example_specs("lnbits", 30, 3600)
    for position in (3, 11, 20):
        lnbits[position].extra["fee_msat"] = (lnbits[position].amount_msat or 0) // 200  # a 0.5 % wallet fee
    spent = Spec(
        "lnbits-out-0",
        15_000_000,
        "Server rent",
        EXPORTED_AT - 86_400 * 12,
        3600,
        EXPORTED_AT - 86_400 * 12 + 5,
    )
    return {
        "lnd": lnd_export(lnd_all),
        "cln": cln_export(cln),
        "lnbits": lnbits_export(lnbits, outgoing=(spent,)),
    }


def example_prices() -> str:
    """Synthetic daily BTC prices (a seeded random walk, not market data) in USD and EUR, as CSV."""
    rng = random.Random("lnnotebook example prices")
    usd, lines = 100_000.0, ["time,USD,EUR"]
    day = datetime.fromtimestamp(_FIRST_DAY, tz=timezone.utc).replace(hour=0, minute=0, second=0)
    while day.timestamp() <= EXPORTED_AT:
        usd *= 1 + rng.gauss(0, 0.02)
        lines.append(f"{day:%Y-%m-%dT%H:%M:%SZ},{usd:.2f},{usd * 0.88:.2f}")
        day += timedelta(days=1)
    return "\n".join(lines) + "\n"


def example_texts() -> dict[str, str]:
    """File name -> the exact text the package ships."""
    texts = {EXAMPLE_FILES[name]: json.dumps(obj, indent=2) + "\n" for name, obj in example_exports().items()}
    texts[PRICES_FILE] = example_prices()
    return texts


if __name__ == "__main__":
    EXAMPLES.mkdir(parents=True, exist_ok=True)
    for name, content in example_texts().items():
        (EXAMPLES / name).write_text(content, encoding="utf-8")
        print(f"wrote {EXAMPLES / name}")
