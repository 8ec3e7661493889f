"""barkd's wire facts, written once for the client and the emulator (sources: this folder's NOTES.md)."""

NAME = "barkd"

PING_PATH = "/ping"  # unauthenticated, answers "pong"
CREATE_PATH = "/api/v1/lightning/receives/invoice"
LIST_PATH = "/api/v1/lightning/receives"
STATUS_PATH = "/api/v1/lightning/receives/{identifier}"  # payment hash, invoice or preimage
FEE_PATH = "/api/v1/fees/lightning/receive"

# Auth: `Authorization: Bearer <token>` only (bark-rest/src/auth.rs); the prefix is case-sensitive.
AUTH_HEADER = "Authorization"
AUTH_SCHEME = "Bearer"
MISSING_TOKEN = "missing auth token"
INVALID_TOKEN = "invalid auth token"

# An unknown payment hash on STATUS_PATH is a plain error, hence HTTP 500 with this text.
UNKNOWN_RECEIVE_MARKER = "no pending lightning receive found"
UNKNOWN_RECEIVE = f"Failed to get lightning receive status: {UNKNOWN_RECEIVE_MARKER} for this payment hash"
ZERO_AMOUNT = "Failed to create invoice: zero-amount invoices are not supported"
INVALID_IDENTIFIER = "identifier is not a valid payment hash, invoice or preimage"
INVALID_AMOUNT = "Invalid amount"

# Receive states (bark's LightningReceiveStatus); there is no "expired".
AWAITING_PAYMENT = "awaiting-payment"
SETTLED = "settled"
PENDING_STATES = frozenset({AWAITING_PAYMENT, "htlcs-ready", "preimage-revealed", "delivering"})
