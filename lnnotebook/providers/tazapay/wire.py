"""Tazapay's wire facts, written once for the client and the emulator (sources: this folder's NOTES.md)."""

NAME = "tazapay"

CREATE_PATH = "/v3/lightning_invoice_bolt11"
FETCH_PATH = "/v3/lightning_invoice_bolt11/{id}"  # GET retrieves, PUT updates metadata
OBJECT = "lightning_invoice_bolt11"  # the `object` field of the invoice
ID_PREFIX = "l11_"

# Auth: HTTP Basic, API key as user, secret as password.
AUTH_SCHEME = "Basic"
IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_MAX = 255  # characters
IDEMPOTENCY_TTL = 24 * 3600  # seconds a stored 2xx answer is replayed
REFERENCE_FIELD = "lnnotebook_reference"  # the key of the client reference in `metadata`

# The response envelope: {"status": "success"|"error", "message", "data"}; `data` is a JSON string per the
# OpenAPI schema, an object in the examples.
ENVELOPE_SUCCESS = "success"
ENVELOPE_ERROR = "error"
STATUS_ACTIVE = "active"
STATUS_EXPIRED = "expired"
PAYMENT_PAID = "paid"
PAYMENT_UNPAID = "unpaid"

# No documented field carries the BOLT11 string: the names a response might use, most likely first.
BOLT11_FIELDS = (
    "bolt11",
    "payment_request",
    "invoice",
    "lightning_invoice",
    "bolt11_invoice",
    "pr",
    "payment_request_bolt11",
    "serialized",
    "request",
)

# Error codes of the generic v1 error body ({"status": "error", "message", "errors": [{"code", ...}]}).
CODE_BAD_JSON = 100
CODE_NOT_FOUND = 105
CODE_INVALID_BASIC_AUTH = 108
CODE_EMPTY_BASIC_AUTH = 109
CODE_RATE_LIMITED = 110
CODE_INVALID_API_KEY = 111
CODE_VALIDATION = 2901  # the code of the recorded missing-parameter error
