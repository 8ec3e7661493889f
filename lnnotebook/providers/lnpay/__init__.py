"""LNPay: the v1 wallet API (``lnpay``) and the legacy user-wallet API (``lnpay-legacy``), one base for both:
clients, emulators, wire facts, NOTES.md and the two API pages."""

from lnnotebook.providers.lnpay.wire import LEGACY_NAME, NAME

PROVIDES = {
    NAME: {"client": f"{__name__}.client:LnpayProvider", "emulator": f"{__name__}.emulator:LnpayEmulator"},
    LEGACY_NAME: {
        "client": f"{__name__}.client:LnpayLegacyProvider",
        "emulator": f"{__name__}.emulator:LnpayLegacyEmulator",
    },
}
