"""The root of lnnotebook's errors: ``except LnnotebookError`` catches everything the library raises on
purpose. Each area defines its own subclasses (invoices in ``lnnotebook.bolt11.errors``)."""

from __future__ import annotations


class LnnotebookError(Exception):
    """The root of every error lnnotebook raises."""
