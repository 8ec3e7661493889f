"""A local sandbox of every emulated provider: real HTTP servers on 127.0.0.1 minting real signed invoices.

    >>> import lnnotebook as ln
    >>> with ln.sandbox() as sb:
    ...     client = sb.connect(sb.names()[0])
    ...     invoice = client.create_invoice(1000, "coffee")
    ...     sb.pay(invoice.bolt11)
    ...     client.invoice_status(invoice)
    'paid'

Options of ``sandbox()``: ``latency`` (seconds added to every request), ``seed`` (node keys and
credentials; random by default), ``fees`` (provider name -> ``FeeSchedule``), ``stall_seconds`` (how
long a "timeout" fault holds the request), ``retry_after`` (the Retry-After of injected 429/503),
``providers`` (which emulators to start), and emulator options prefixed with the provider name
(``-`` as ``_``), e.g. ``tazapay_bolt11_field="payment_request"``, ``tazapay_data_format="object"``,
``lnpay_free_tier=True``.

Which emulators exist comes from the provider registry (``lnnotebook.providers``): each provider folder
declares its emulator class. On the command line, ``lnnotebook sandbox`` (or ``python -m
lnnotebook.emulation``) serves them until interrupted (``main``).
"""

from __future__ import annotations

import argparse
import inspect
import os
import shlex
import sys
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lnnotebook.emulation.emulator import Emulator
from lnnotebook.emulation.faults import FAULTS
from lnnotebook.emulation.state import FeeSchedule
from lnnotebook.options import env_var
from lnnotebook.providers import emulator_class, emulator_names

if TYPE_CHECKING:  # the provider clients load on first connect()
    from lnnotebook.providers.base import Provider


def emulator_classes() -> dict[str, type[Emulator[Any]]]:
    """Every registered emulator class by provider name, in registry order (imports them)."""
    return {name: emulator_class(name) for name in emulator_names()}


class Sandbox:
    """Running emulators; use as a context manager (see the module docstring)."""

    def __init__(
        self,
        latency: float = 0.0,
        *,
        providers: list[str] | tuple[str, ...] | None = None,
        seed: str | None = None,
        fees: dict[str, FeeSchedule] | None = None,
        stall_seconds: float = 2.0,
        retry_after: int = 1,
        **emulator_options: Any,
    ) -> None:
        available = emulator_names()
        names = list(providers) if providers is not None else available
        unknown = [name for name in [*names, *(fees or {})] if name not in available]
        if unknown:
            raise ValueError(
                f"no emulator for {', '.join(map(repr, unknown))}; available: {', '.join(available)}"
            )
        if latency < 0:
            raise ValueError(f"latency must be >= 0 seconds, got {latency!r}")
        seed = seed if seed is not None else os.urandom(16).hex()
        per_emulator = _split_options(emulator_options, names)
        self._emulators: dict[str, Emulator[Any]] = {}
        for name in names:
            self._emulators[name] = _build(
                name,
                per_emulator[name],
                seed=seed,
                latency=latency,
                fees=(fees or {}).get(name),
                stall_seconds=stall_seconds,
                retry_after=retry_after,
            )
        self._started = False
        self._clients: list[Provider] = []

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> Sandbox:
        if not self._started:
            started = []
            try:
                for emulator in self._emulators.values():
                    emulator.start()
                    started.append(emulator)
            except BaseException:
                for emulator in started:
                    emulator.stop()
                raise
            self._started = True
        return self

    def close(self) -> None:
        for client in self._clients:
            client.close()
        self._clients.clear()
        if self._started:
            for emulator in self._emulators.values():
                emulator.stop()
            self._started = False

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "running" if self._started else "stopped"
        return f"<Sandbox {state}: {', '.join(self._emulators)}>"

    # --- what users call -----------------------------------------------------------------------

    def names(self) -> list[str]:
        return list(self._emulators)

    def emulator(self, name: str) -> Emulator[Any]:
        try:
            return self._emulators[name]
        except KeyError:
            raise KeyError(
                f"sandbox has no emulator {name!r}; running: {', '.join(self._emulators)}"
            ) from None

    def url(self, name: str) -> str:
        """Base URL to pass as ``url=`` (or ``LNNOTEBOOK_<PROVIDER>_URL``)."""
        self._require_started()
        return self.emulator(name).url

    def credentials(self, name: str) -> dict[str, str]:
        """The connect() options that authenticate against the emulator (without ``url``)."""
        return dict(self.emulator(name).credentials())

    def options(self, name: str) -> dict[str, str]:
        """Every connect() option for the emulator (``url`` and its credentials, by default)."""
        self._require_started()
        return dict(self.emulator(name).connect_options())

    def connect(self, name: str, **overrides: Any) -> Provider:
        """A client for the emulator; ``overrides`` replace or add connect() options."""
        from lnnotebook.service import connect

        client = connect(name, **{**self.options(name), **overrides})
        self._clients.append(client)
        return client

    def providers(self, **overrides: Any) -> list[Provider]:
        """One connected client per emulator."""
        return [self.connect(name, **overrides) for name in self._emulators]

    def env(self) -> dict[str, str]:
        """``LNNOTEBOOK_<PROVIDER>_<OPTION>`` variables for every emulator."""
        return {
            env_var(name, option): value
            for name in self._emulators
            for option, value in self.options(name).items()
        }

    def pay(self, bolt11: str) -> str:
        """Settle an invoice minted by any emulator; returns the emulator's name."""
        if not isinstance(bolt11, str) or not bolt11.strip():
            raise ValueError("pay() needs a BOLT11 invoice string (or payment hash)")
        for name, emulator in self._emulators.items():
            invoice = emulator.find(bolt11)
            if invoice is not None:
                emulator.pay(invoice)
                return name
        raise ValueError("no emulator in this sandbox minted that invoice")

    def inject(self, name: str, fault: str, times: int = 1, *, stage: str = "before") -> None:
        """Make the next ``times`` requests to emulator ``name`` fail with ``fault`` (see FAULTS)."""
        self.emulator(name).inject(fault, times, stage)

    def minted(self, name: str) -> int:
        """How many invoices emulator ``name`` actually created."""
        return self.emulator(name).minted

    def _require_started(self) -> None:
        if not self._started:
            raise RuntimeError("the sandbox is not running; use `with lnnotebook.sandbox() as sb:`")


def sandbox(latency: float = 0.0, **options: Any) -> Sandbox:
    """A Sandbox (context manager) of every registered emulator; see the module docstring for options."""
    return Sandbox(latency, **options)


def _build(name: str, options: dict[str, Any], **common: Any) -> Emulator[Any]:
    """Emulator ``name`` with its own ``options`` (given to the sandbox as ``<name>_<option>``)."""
    cls = emulator_class(name)
    accepted = {
        parameter.name
        for klass in cls.__mro__
        if "__init__" in vars(klass)
        for parameter in inspect.signature(vars(klass)["__init__"]).parameters.values()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY and parameter.name not in common
    }
    unknown = sorted(set(options) - accepted)
    if unknown:
        prefix = name.replace("-", "_") + "_"
        known = ", ".join(prefix + option for option in sorted(accepted)) or "none"
        raise TypeError(f"unknown sandbox option {prefix + unknown[0]!r} for {name}; its options: {known}")
    return cls(**common, **options)


def _split_options(options: dict[str, Any], names: list[str]) -> dict[str, dict[str, Any]]:
    """Route ``<provider>_<option>`` keywords to their emulator (longest provider name first)."""
    prefixes = sorted(((name.replace("-", "_") + "_", name) for name in names), key=lambda p: -len(p[0]))
    routed: dict[str, dict[str, Any]] = {name: {} for name in names}
    for key, value in options.items():
        for prefix, name in prefixes:
            if key.startswith(prefix):
                routed[name][key[len(prefix) :]] = value
                break
        else:
            example = f"{names[0].replace('-', '_')}_default_expiry" if names else "<provider>_<option>"
            raise TypeError(
                f"unknown sandbox option {key!r} (emulator options are prefixed with the name of a "
                f"provider in this sandbox, e.g. {example}; running: {', '.join(names) or 'none'})"
            )
    return routed


def main(argv: Sequence[str] | None = None) -> int:
    """Serve every emulator until interrupted, printing ``export LNNOTEBOOK_...`` lines."""
    parser = argparse.ArgumentParser(
        prog="lnnotebook sandbox", description="Serve the provider emulators on 127.0.0.1 until Ctrl-C."
    )
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    parser.add_argument("--seed", default=None, help="fixed seed for node keys and credentials")
    parser.add_argument(
        "--provider",
        action="append",
        choices=emulator_names(),
        help="emulator to start (repeatable; default: all)",
    )
    args = parser.parse_args(argv)
    with Sandbox(args.latency, providers=args.provider, seed=args.seed) as sb:
        for name in sb.names():
            print(f"# {name}: {sb.url(name)}")
        for variable, value in sb.env().items():
            print(f"export {variable}={shlex.quote(value)}")
        print("# serving; press Ctrl-C to stop", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("# stopped", file=sys.stderr)
    return 0


__all__ = ["FAULTS", "FeeSchedule", "Sandbox", "emulator_classes", "main", "sandbox"]
