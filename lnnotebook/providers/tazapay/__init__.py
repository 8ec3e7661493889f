"""Tazapay v3 Lightning invoices: client, emulator, wire facts, NOTES.md, openapi.yaml."""

from lnnotebook.providers.tazapay.wire import NAME

PROVIDES = {
    NAME: {
        "client": f"{__name__}.client:TazapayProvider",
        "emulator": f"{__name__}.emulator:TazapayEmulator",
    },
}
