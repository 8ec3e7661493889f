"""Facts of BOLT #11 (snapshot 2026-03-23) and BOLT #9 shared by the decoder and the encoder."""

from __future__ import annotations

from typing import NamedTuple

BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
BECH32_CONST = 1
BECH32M_CONST = 0x2BC830A3  # BIP-350, for witness version 1+ fallback addresses

MAX_INVOICE_LENGTH = 7089  # lnd's and rust-lightning's limit
# Room for what a BIP-21 URI adds around the invoice (address, amount, label ...): a longer paste is refused
# before it is parsed at all, and the invoice found inside is then held to MAX_INVOICE_LENGTH.
MAX_URI_OVERHEAD = 1024
DEFAULT_EXPIRY = 3600
DEFAULT_MIN_FINAL_CLTV_EXPIRY = 18

TIMESTAMP_GROUPS = 7  # 35 bits
SIGNATURE_GROUPS = 104  # 520 bits: r (32 bytes) || s (32 bytes) || recovery id
CHECKSUM_GROUPS = 6
MIN_DATA_GROUPS = TIMESTAMP_GROUPS + SIGNATURE_GROUPS + CHECKSUM_GROUPS
MAX_TIMESTAMP = 2**35 - 1
MAX_FIELD_GROUPS = 1023  # data_length is 10 bits
MAX_FIELD_BYTES = MAX_FIELD_GROUPS * 5 // 8  # 639
HOP_BYTES = 33 + 8 + 4 + 4 + 2  # pubkey, short_channel_id, fee_base, fee_proportional, cltv_expiry_delta
MAX_HOPS_PER_ROUTE = MAX_FIELD_GROUPS * 5 // (HOP_BYTES * 8)  # 12
MAX_HRP_LENGTH = 83  # BIP-173: the separator lies within the first 84 characters
MAX_UINT64 = 2**64 - 1

KNOWN_TAGS = "psdhnxcfr9m"  # every other tag is unknown and skipped by readers

CURVE_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
HALF_CURVE_ORDER = CURVE_ORDER // 2

# Amounts: msat per unit of each multiplier; 'p' (pico-bitcoin) is a tenth of a millisatoshi.
MSAT_PER_UNIT = {"": 100_000_000_000, "m": 100_000_000, "u": 100_000, "n": 100}
# Far above any real amount (21 million BTC is 19 digits of msat) and far below Python's 4300-digit limit
# on int/str conversions, which would otherwise escape as a bare ValueError (and break repr()).
MAX_AMOUNT_DIGITS = 100


class AddressParams(NamedTuple):
    """How fallback addresses of one invoice network are written."""

    segwit_hrp: str
    p2pkh_version: int
    p2sh_version: int


# Currency prefix of the invoice -> its on-chain address parameters.
NETWORKS: dict[str, AddressParams] = {
    "bc": AddressParams("bc", 0x00, 0x05),
    "tb": AddressParams("tb", 0x6F, 0xC4),
    "tbs": AddressParams("tb", 0x6F, 0xC4),
    "bcrt": AddressParams("bcrt", 0x6F, 0xC4),
}

# BOLT 9 names (current table plus earlier assignments still seen in the wild), by even bit.
_FEATURE_NAMES_BY_PAIR = {
    0: "option_data_loss_protect",
    4: "option_upfront_shutdown_script",
    6: "gossip_queries",
    8: "var_onion_optin",
    10: "gossip_queries_ex",
    12: "option_static_remotekey",
    14: "payment_secret",
    16: "basic_mpp",
    18: "option_support_large_channel",
    20: "option_anchor_outputs",
    22: "option_anchors",
    24: "option_route_blinding",
    26: "option_shutdown_anysegwit",
    28: "option_dual_fund",
    34: "option_quiesce",
    38: "option_onion_messages",
    44: "option_channel_type",
    46: "option_scid_alias",
    48: "option_payment_metadata",
    50: "option_zeroconf",
}
FEATURE_NAMES: dict[int, str] = {
    bit + offset: name for bit, name in _FEATURE_NAMES_BY_PAIR.items() for offset in (0, 1)
}
FEATURE_NAMES[3] = "initial_routing_sync"  # the one assignment without an even partner
