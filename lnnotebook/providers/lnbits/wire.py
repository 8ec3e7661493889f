"""LNbits' wire facts, written once for the client and the server runner (sources: this folder's NOTES.md)."""

NAME = "lnbits"

PAYMENTS_PATH = "/api/v1/payments"  # POST creates (out: false) or pays (out: true)
STATUS_PATH = "/api/v1/payments/{payment_hash}"
PAGINATED_PATH = "/api/v1/payments/paginated"
WALLET_PATH = "/api/v1/wallet"
ACCOUNT_PATH = "/api/v1/account"  # a new user and wallet, no authentication
HEALTH_PATH = "/api/v1/health"
FIRST_INSTALL_PATH = "/api/v1/auth/first_install"
BALANCE_PATH = "/users/api/v1/balance"  # superuser: credit a wallet

API_KEY_HEADER = "X-Api-Key"
CREATED_STATUS = 201
UNKNOWN_KEY_MESSAGE = "Wallet not found"  # 404 "Wallet not found." for an unknown key
LNBITS_ERROR_STATUS = 520  # InvoiceError / PaymentError: LNbits refused the request, it did not fail
# A created payment's `status` -> lnnotebook's status.
CREATED_STATES = {"pending": "pending", "success": "paid", "failed": "failed"}
EXPIRED_LABEL = "expired"
REFERENCE_FIELD = "lnnotebook_reference"  # the key of the client reference in a payment's `extra`
