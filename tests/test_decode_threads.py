"""Decoding from many threads at once (create_invoices decodes from worker threads)."""

from __future__ import annotations

import threading

import pytest

import lnnotebook.bolt11.bech32 as bech32
from lnnotebook.bolt11 import decode
from lnnotebook.synthetic import generate_invoices


@pytest.fixture()
def fresh_checksum_table(monkeypatch: pytest.MonkeyPatch) -> None:
    # The checksum table grows on first use; a fresh one makes every thread race to grow it.
    monkeypatch.setattr(bech32, "_TABLE", bech32._ChecksumTable())


@pytest.mark.parametrize("trial", range(5))
def test_concurrent_first_decodes_agree_with_serial_ones(fresh_checksum_table: None, trial: int) -> None:
    invoices = generate_invoices(200, seed=100 + trial)
    expected = [decode(text) for text in invoices]
    bech32._TABLE = bech32._ChecksumTable()  # serial decoding above grew it; start over

    results: list = [None] * len(invoices)
    start = threading.Barrier(8)

    def work(offset: int) -> None:
        start.wait()
        for position in range(offset, len(invoices), 8):
            try:
                results[position] = decode(invoices[position])
            except Exception as error:  # recorded, then asserted below
                results[position] = error

    threads = [threading.Thread(target=work, args=(offset,)) for offset in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == expected
