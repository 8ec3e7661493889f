"""barkd (Second's Ark wallet daemon) REST API: client, emulator, wire facts, NOTES.md, openapi.yaml."""

from lnnotebook.providers.barkd.wire import NAME

PROVIDES = {
    NAME: {"client": f"{__name__}.client:BarkdProvider", "emulator": f"{__name__}.emulator:BarkdEmulator"},
}
