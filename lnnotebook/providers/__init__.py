"""Invoice provider clients and their registry (``lnnotebook.connect`` builds them: ``lnnotebook.service``).

Adding a provider means one module here with one ``Provider`` subclass, plus one line in ``REGISTRY``
(name -> "module:Class", imported on first use so ``import lnnotebook`` stays cheap). Third-party code
can call ``register_provider`` instead.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from lnnotebook.providers.errors import ConfigurationError

if TYPE_CHECKING:  # base imports lnnotebook.options, which imports this package's errors module
    from lnnotebook.providers.base import Provider

REGISTRY: dict[str, str] = {
    "barkd": "lnnotebook.providers.barkd:BarkdProvider",
    "tazapay": "lnnotebook.providers.tazapay:TazapayProvider",
    "lnpay": "lnnotebook.providers.lnpay:LnpayProvider",
    "lnpay-legacy": "lnnotebook.providers.lnpay_legacy:LnpayLegacyProvider",
    "lnbits": "lnnotebook.providers.lnbits:LnbitsProvider",
}


def register_provider(name: str, provider: type[Provider] | str) -> None:
    """Make ``lnnotebook.connect(name)`` build ``provider`` (a class or a "module:Class" string)."""
    REGISTRY[name] = (
        provider if isinstance(provider, str) else f"{provider.__module__}:{provider.__qualname__}"
    )


def provider_class(name: str) -> type[Provider]:
    target = REGISTRY.get(name)
    if target is None:
        raise ConfigurationError(
            f"unknown provider {name!r}; known: {', '.join(sorted(REGISTRY))}",
            provider=str(name),
            field="name",
        )
    module_name, _, class_name = target.partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def provider_names() -> list[str]:
    return sorted(REGISTRY)


__all__ = ["REGISTRY", "provider_class", "provider_names", "register_provider"]
