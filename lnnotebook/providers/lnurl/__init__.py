"""LNURL-pay and Lightning Addresses (LUD-01, 06, 09, 12, 16, 17, 18, 21): client, emulator, wire facts,
address parsing (``lud01``), the payRequest reader (``payrequest``), ``lnurl_info`` (``info``), NOTES.md."""

from lnnotebook.providers.lnurl.wire import NAME

PROVIDES = {
    NAME: {"client": f"{__name__}.client:LnurlProvider", "emulator": f"{__name__}.emulator:LnurlEmulator"},
}
