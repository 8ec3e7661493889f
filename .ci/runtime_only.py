"""Run by .ci/run in a fresh venv holding lnnotebook with its runtime dependencies only (no extras):
the sandbox creates and decodes invoices at every emulated provider, and the third-party BOLT11 stack
(bolt11, bitstring, bech32) is not installed: the package signs and decodes with its own code."""

import importlib.util
import sys

import lnnotebook as ln

absent = [name for name in ("bolt11", "bitstring", "bech32") if importlib.util.find_spec(name) is not None]
if absent:
    sys.exit(f"runtime-only venv unexpectedly has {', '.join(absent)}")
with ln.sandbox() as sb:
    for name in sb.names():
        client = sb.connect(name, ledger=False)
        created = client.create_invoice(1234, "runtime only")
        invoice = ln.decode(created.bolt11)
        assert invoice.amount_msat == 1_234_000, (name, invoice)
        if type(client).memo_is_description:  # LNURL sends the memo as a comment beside a hashed description
            assert invoice.description == "runtime only", (name, invoice)
        sb.pay(created.bolt11)
        assert client.invoice_status(created) == "paid", name
        print(f"{name}: created, decoded ({invoice.network}) and paid with runtime dependencies only")
