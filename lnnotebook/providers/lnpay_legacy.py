"""LNPay legacy user-wallet API client (``POST /v1/user/wallet/{access_key}/invoice``).

Options: ``url`` (default ``https://lnpay.co/v1``, the legacy host), ``api_key``, ``access_key`` (the
``wi_`` invoice key) and ``auth`` (``header``, ``query`` or ``basic``; the legacy docs use Basic).
Variables: ``LNNOTEBOOK_LNPAY_LEGACY_URL``, ``LNNOTEBOOK_LNPAY_LEGACY_API_KEY``,
``LNNOTEBOOK_LNPAY_LEGACY_ACCESS_KEY``, ``LNNOTEBOOK_LNPAY_LEGACY_AUTH``.

Behaviour is shared with the v1 client (see ``lnnotebook.providers.lnpay``): 201 success, Yii2 errors,
401 "LnTx not found". Request fields are only ``num_satoshis``, ``memo`` and ``expiry``. The legacy LnTx
has no ``fee_msat``, so ``fee_sat`` is None. Status uses the documented ``GET /v1/lntx/{id}`` on the same
host (the legacy docs name no status endpoint of their own).
"""

from __future__ import annotations

from lnnotebook.options import Option
from lnnotebook.providers.lnpay import LnpayBase


class LnpayLegacyProvider(LnpayBase):
    name = "lnpay-legacy"
    default_url = "https://lnpay.co/v1"
    options = (
        Option("api_key", str, required=True, secret=True, help="LNPay API key"),
        Option("access_key", str, required=True, secret=True, help="wallet access key (wi_...)"),
        Option("auth", str, "basic", help="how the key is sent: header, query or basic"),
    )
    create_path = "/user/wallet/{key}/invoice"
    wallet_option = "access_key"
