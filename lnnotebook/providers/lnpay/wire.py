"""LNPay's wire facts (v1 wallet API and the legacy user-wallet API), written once for the clients and the
emulators (sources: this folder's NOTES.md)."""

NAME = "lnpay"  # the v1 wallet API
LEGACY_NAME = "lnpay-legacy"  # the legacy user-wallet API

BASE_PATH = "/v1"  # both APIs; the default URLs end with it and the paths below are relative to it
CREATE_PATH = "/wallet/{key}/invoice"  # v1: key = the wallet key (wal_/waki_)
LEGACY_CREATE_PATH = "/user/wallet/{key}/invoice"  # legacy: key = the access key (wi_)
LNTX_PATH = "/lntx/{id}"  # both: retrieve an LnTx
TRANSACTIONS_PATH = "/wallet/{key}/transactions"  # v1: the wallet's settled transactions, newest first
LEGACY_TRANSACTIONS_PATH = "/user/wallet/{key}/transactions"  # legacy: by analogy (not in its docs)
REFERENCE_FIELD = "lnnotebook_reference"  # the key of the client reference in passThru

# Yii2 CompositeAuth accepts the key in any of these.
API_KEY_HEADER = "X-Api-Key"
ACCESS_TOKEN_PARAM = "access-token"
AUTH_FORMS = ("header", "query", "basic")  # Basic: the key as user, an empty password

CREATED_STATUS = 201  # WalletController::actionInvoice
INVALID_CREDENTIALS = "Your request was made with invalid credentials."
LNTX_NOT_FOUND = "LnTx not found"  # a 401 (UnauthorizedHttpException), not a 404
WALLET_NOT_FOUND = "Wallet not found"
PASS_THRU_INVALID = "passThru data must be valid json"

# LnTx `settled`: 1 paid, 0 pending, -1 failed (as LNbits maps it).
SETTLED_PAID = 1
SETTLED_PENDING = 0
SETTLED_FAILED = -1

DEFAULT_MEMO = "LNPay Invoice"
FREE_TIER_SUFFIX = " (via LNPAY.co)"
DEFAULT_EXPIRY = 86400
