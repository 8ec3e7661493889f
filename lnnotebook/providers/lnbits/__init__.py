"""LNbits wallet API: client, wire facts, NOTES.md, and ``server``, which runs a real LNbits (no emulator)."""

from lnnotebook.providers.lnbits.wire import NAME

PROVIDES = {
    NAME: {
        "client": f"{__name__}.client:LnbitsProvider",
        "emulator": None,
        # ln.read_invoices reads the wallet's `GET /api/v1/payments` answer with this
        "export_reader": f"{__name__}.payments:read",
    },
}
