"""LNPay legacy user-wallet API emulator (``POST /v1/user/wallet/{access_key}/invoice``), ``lnbc`` invoices.

Contract: ``lnpay-legacy-generate-invoice.md`` (docs dated 2020-01) and FACTS.md section 3. The legacy API
ran on the same Yii2 core as v1, so authentication (``X-Api-Key``, ``?access-token=``, Basic ``key:``),
error bodies and the 201 success are shared with the v1 emulator. Request fields: ``num_satoshis``,
``memo``, ``expiry`` (default 86400). The LnTx returned is the documented legacy shape (with
``updated_at``, without ``fee_msat``, ``description_hash`` or ``passThru``).

Not documented, chosen here: the status endpoint is the documented ``GET /v1/lntx/{id}`` on the legacy
host; access keys look like the docs' ``wi_`` invoice key; API keys are 32 random characters as in the
docs' curl example.
"""

from __future__ import annotations

import base64
from typing import Any

from lnnotebook.sandbox.emulator import Reply, Request, register, route
from lnnotebook.sandbox.lnpay import LnpayCoreEmulator


@register("lnpay-legacy")
class LnpayLegacyEmulator(LnpayCoreEmulator):
    wallet_key_option = "access_key"
    routes = (
        route("POST", "/v1/user/wallet/{access_key}/invoice", "create_invoice"),
        route("GET", "/v1/lntx/{lntx_id}", "retrieve_lntx"),
    )
    lntx_fields = (
        "id",
        "created_at",
        "updated_at",
        "dest_pubkey",
        "payment_request",
        "r_hash_decoded",
        "memo",
        "num_satoshis",
        "expiry",
        "expires_at",
        "payment_preimage",
        "settled",
        "settled_at",
    )

    def make_keys(self, digest: Any) -> tuple[str, str]:
        raw = digest.digest()
        api_key = base64.urlsafe_b64encode(raw[:24]).decode()[:32]
        return api_key, "wi_" + base64.urlsafe_b64encode(raw[24:]).decode().rstrip("=")[:21]

    def create_invoice(self, request: Request, access_key: str) -> Reply:
        return self.create_for_wallet(request, access_key)
