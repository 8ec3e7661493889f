"""The provider registry (``lnnotebook.connect`` builds clients from it: ``lnnotebook.service``).

Each provider lives in one folder, ``lnnotebook/providers/<package>/``: its client (``client.py``), its
emulator (``emulator.py``) or real-server runner, the wire facts both use (``wire.py``), its notes
(``NOTES.md``) and its OpenAPI schema where one exists. The folder's ``__init__`` declares what it
provides without importing any of that code::

    PROVIDES = {"<name>": {"client": "<module>:<Class>", "emulator": "<module>:<Class>" or None}}

Adding a provider = one new folder + its package name in ``PROVIDER_PACKAGES``. The order of
``PROVIDER_PACKAGES`` (and of the names each folder declares) is the registry order: the sandbox starts
emulators in it and charts give providers their colours in it. Third-party code can call
``register_provider`` instead.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from lnnotebook.providers.errors import ConfigurationError

if TYPE_CHECKING:  # base imports lnnotebook.options, which imports this package's errors module
    from lnnotebook.emulation.emulator import Emulator
    from lnnotebook.providers.base import Provider

# One line per provider folder (a folder may declare several provider names).
PROVIDER_PACKAGES: tuple[str, ...] = ("barkd", "tazapay", "lnpay", "lnbits", "lnurl")

REGISTRY: dict[str, str] = {}  # provider name -> "module:Class" of its client
EMULATORS: dict[str, str] = {}  # provider name -> "module:Class" of its emulator (if it has one)
# provider name -> "module:function" reading an export of the provider's invoices (ln.read_invoices)
EXPORT_READERS: dict[str, str] = {}
# Classes registered as objects (they may not be importable by name, e.g. defined in a function).
_CLASSES: dict[tuple[str, str], type] = {}


def _declare(package: str) -> None:
    folder = importlib.import_module(f"{__name__}.{package}")  # declarations only: cheap
    declared = getattr(folder, "PROVIDES", None)
    if not isinstance(declared, dict) or not declared:
        raise ImportError(f"{folder.__name__} declares no PROVIDES mapping of provider names")
    for name, parts in declared.items():
        if not isinstance(parts, dict) or not isinstance(parts.get("client"), str):
            raise ImportError(f"{folder.__name__}.PROVIDES[{name!r}] needs a 'client': 'module:Class'")
        register_provider(name, parts["client"], emulator=parts.get("emulator"))
        if isinstance(parts.get("export_reader"), str):
            EXPORT_READERS[name] = parts["export_reader"]


def register_provider(
    name: str, provider: type[Provider] | str, *, emulator: type[Emulator] | str | None = None
) -> None:
    """Make ``connect(name)`` build ``provider`` (a class or a "module:Class" string).

    ``emulator`` (a class or "module:Class") makes ``lnnotebook.sandbox()`` emulate it too.
    """
    unregister_provider(name)
    REGISTRY[name] = _target("provider", name, provider)
    if emulator is not None:
        EMULATORS[name] = _target("emulator", name, emulator)


def unregister_provider(name: str) -> None:
    """Forget provider ``name`` (its client and emulator); unknown names are ignored."""
    REGISTRY.pop(name, None)
    EMULATORS.pop(name, None)
    EXPORT_READERS.pop(name, None)
    for what in ("provider", "emulator"):
        _CLASSES.pop((what, name), None)


def provider_class(name: str) -> type[Provider]:
    """The client class of provider ``name`` (imported on first use)."""
    return _load(REGISTRY, name, "provider")


def emulator_class(name: str) -> type[Emulator]:
    """The emulator class of provider ``name`` (imported on first use)."""
    return _load(EMULATORS, name, "emulator")


def provider_names() -> list[str]:
    """Every registered provider name, sorted."""
    return sorted(REGISTRY)


def registry_order() -> list[str]:
    """Every registered provider name in registry order (``PROVIDER_PACKAGES``, then registrations)."""
    return list(REGISTRY)


def export_readers() -> list[str]:
    """The "module:function" readers of provider exports that provider folders declare, in registry order."""
    return list(EXPORT_READERS.values())


def emulator_names() -> list[str]:
    """The providers the sandbox can emulate, in registry order."""
    return list(EMULATORS)


def _target(what: str, name: str, cls: type | str) -> str:
    if isinstance(cls, str):
        return cls
    _CLASSES[(what, name)] = cls
    return f"{cls.__module__}:{cls.__qualname__}"


def _load(table: dict[str, str], name: str, what: str) -> Any:
    target = table.get(name)
    if target is None:
        raise ConfigurationError(
            f"unknown {what} {name!r}; known: {', '.join(sorted(table))}", provider=str(name), field="name"
        )
    registered = _CLASSES.get((what, name))
    if registered is not None:
        return registered
    module_name, _, class_name = target.partition(":")
    return getattr(importlib.import_module(module_name), class_name)


for _package in PROVIDER_PACKAGES:
    _declare(_package)

__all__ = [
    "EMULATORS",
    "EXPORT_READERS",
    "PROVIDER_PACKAGES",
    "REGISTRY",
    "emulator_class",
    "emulator_names",
    "export_readers",
    "provider_class",
    "provider_names",
    "register_provider",
    "registry_order",
    "unregister_provider",
]
