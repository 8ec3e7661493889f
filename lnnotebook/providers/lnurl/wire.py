"""LNURL-pay's wire facts, written once for the client and the emulator (sources: this folder's NOTES.md)."""

NAME = "lnurl"

# LUD-16: name@domain -> GET <scheme>://domain/.well-known/lnurlp/name
WELL_KNOWN_PATH = "/.well-known/lnurlp/{name}"
# LUD-16: names are a-z0-9-_. (wallets lower-case what people type)
ADDRESS_NAME_CHARACTERS = "abcdefghijklmnopqrstuvwxyz0123456789-_."
# LUD-01: the human-readable part of a bech32 LNURL
LNURL_HRP = "lnurl"
# LUD-17: the LNURL-pay scheme; it stands for https:// (http:// for an onion host)
PAY_SCHEME = "lnurlp"

PAY_TAG = "payRequest"  # LUD-06 first answer's "tag"
ERROR_STATUS = "ERROR"  # {"status": "ERROR", "reason": "..."} at any step (LUD-06)
OK_STATUS = "OK"

# LUD-06 step 4 / LUD-12 / LUD-18 callback query parameters
AMOUNT_PARAM = "amount"  # millisatoshi
COMMENT_PARAM = "comment"
PAYERDATA_PARAM = "payerdata"

# LUD-06 metadata entry types
TEXT_PLAIN = "text/plain"
LONG_DESC = "text/long-desc"
IDENTIFIER = "text/identifier"  # LUD-16
EMAIL = "text/email"  # LUD-16
IMAGE_TYPES = ("image/png;base64", "image/jpeg;base64")

# LUD-09 successAction tags this client understands (LUD-10 "aes" needs the preimage to read)
SUCCESS_ACTION_TAGS = frozenset({"message", "url"})
SUCCESS_ACTION_TEXT_LIMIT = 144  # characters of a message / url description (LUD-09)

# LUD-18 payer-data kinds lnnotebook can send (auth needs a LUD-04 signature: not sent)
PAYER_DATA_KINDS = frozenset({"name", "pubkey", "identifier", "email"})

NOT_FOUND_REASON = "Not found"  # LUD-21 verify on an unknown invoice
