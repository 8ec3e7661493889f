"""The registry and the provider folders: declarations, wire facts written once, notes and schemas shipped."""

from __future__ import annotations

import ast
import fnmatch
import importlib
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import pytest

import lnnotebook as ln
from lnnotebook import providers
from lnnotebook.providers import (
    EMULATORS,
    PROVIDER_PACKAGES,
    REGISTRY,
    emulator_class,
    emulator_names,
    provider_class,
    register_provider,
    registry_order,
    unregister_provider,
)
from lnnotebook.providers.errors import ConfigurationError

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "lnnotebook"
FOLDERS = [PACKAGE / "providers" / package for package in PROVIDER_PACKAGES]


def test_every_folder_declares_its_names_and_they_all_load():
    declared = {}
    for package in PROVIDER_PACKAGES:
        declared.update(importlib.import_module(f"lnnotebook.providers.{package}").PROVIDES)
    assert list(declared) == registry_order()[: len(declared)]
    for name, parts in declared.items():
        client = provider_class(name)
        assert issubclass(client, ln.Provider) and client.name == name
        assert client.__module__.startswith("lnnotebook.providers.") and client.__module__.endswith(".client")
        if parts["emulator"] is None:
            assert name not in EMULATORS
            continue
        emulator = emulator_class(name)
        assert emulator.name == name and emulator.__module__ == client.__module__.replace(
            "client", "emulator"
        )
    assert emulator_names() == [name for name, parts in declared.items() if parts["emulator"]]


def test_the_registry_imports_no_client_or_emulator_code():
    code = (
        "import sys, lnnotebook.providers as p\n"
        "print(sorted(m for m in sys.modules if m.startswith('lnnotebook.') and m.rsplit('.', 1)[-1] in "
        "('client', 'emulator', 'server', 'base') or m in ('requests', 'werkzeug')))\n"
        "print(len(p.REGISTRY))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    loaded, count = result.stdout.split("\n")[:2]
    assert loaded == "[]" and int(count) == len(REGISTRY) >= 5


def test_unknown_names_say_what_is_known():
    with pytest.raises(ConfigurationError, match="unknown provider 'nosuch'; known: barkd"):
        provider_class("nosuch")
    with pytest.raises(ConfigurationError, match="unknown emulator 'lnbits'"):
        emulator_class("lnbits")  # LNbits runs the real server instead


def test_registering_a_provider_with_an_emulator_adds_it_to_the_sandbox():
    barkd_client, barkd_emulator = provider_class("barkd"), emulator_class("barkd")

    class ForkClient(barkd_client):  # type: ignore[misc, valid-type]
        name = "barkd-fork"

    class ForkEmulator(barkd_emulator):  # type: ignore[misc, valid-type]
        name = "barkd-fork"

    register_provider("barkd-fork", ForkClient, emulator=ForkEmulator)
    try:
        assert registry_order()[-1] == "barkd-fork" and "barkd-fork" in emulator_names()
        with ln.sandbox(providers=["barkd-fork"]) as sb:
            created = sb.connect("barkd-fork", ledger=False).create_invoice(500, "fork")
            assert created.provider == "barkd-fork" and sb.minted("barkd-fork") == 1
    finally:
        unregister_provider("barkd-fork")
    assert "barkd-fork" not in REGISTRY and "barkd-fork" not in EMULATORS


def test_sandbox_is_a_function_even_after_its_module_is_imported():
    import lnnotebook.emulation.sandbox as module

    assert ln.sandbox is module.sandbox and ln.Sandbox is module.Sandbox
    assert not isinstance(ln.sandbox, type(module))


def _string_constants(tree: ast.AST) -> set[str]:
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda folder: folder.name)
def test_wire_facts_are_written_once(folder):
    """No client, emulator or server module repeats a path, message or marker that wire.py holds."""
    wire = ast.parse((folder / "wire.py").read_text(encoding="utf-8"))
    facts = {text for text in _string_constants(wire) if len(text) >= 6 and (" " in text or "/" in text)}
    assert facts, "wire.py holds the folder's paths and messages"
    for module in sorted(folder.glob("*.py")):
        if module.name in ("wire.py", "__init__.py"):
            continue
        tree = ast.parse(module.read_text(encoding="utf-8"))
        docs = _docstrings(tree)
        literals = {
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs
        }
        repeated = sorted(fact for fact in facts if any(fact in literal for literal in literals))
        assert not repeated, f"{module.name} repeats wire facts instead of importing them: {repeated}"


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda folder: folder.name)
def test_each_folder_has_its_notes_and_docstrings_point_inside_the_repository(folder):
    notes = folder / "NOTES.md"
    assert notes.read_text(encoding="utf-8").startswith("# ")
    for module in folder.glob("*.py"):
        text = module.read_text(encoding="utf-8")
        assert "FACTS.md section" not in text and "/work/" not in text, module
        for name in ("barkd-create-invoice.md", "tazapay-create-invoice.md", "lnpay-v1-generate-invoice.md"):
            if name in text:
                assert (folder / name).is_file(), (
                    f"{module.name} cites {name}, which is not in {folder.name}/"
                )


def _package_data_patterns() -> list[str]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        from pip._vendor import tomli as tomllib
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return config["tool"]["setuptools"]["package-data"]["lnnotebook.providers"]


def test_notes_pages_and_schemas_are_package_data_and_readable_from_the_package():
    patterns = _package_data_patterns()
    shipped = [path for folder in FOLDERS for path in folder.iterdir() if path.suffix in (".md", ".yaml")]
    assert len(shipped) >= 10
    for path in shipped:
        relative = path.relative_to(PACKAGE / "providers").as_posix()
        assert any(fnmatch.fnmatch(relative, pattern) for pattern in patterns), relative
        resource = files(f"lnnotebook.providers.{path.parent.name}") / path.name
        assert resource.read_text(encoding="utf-8") == path.read_text(encoding="utf-8")


def test_no_module_outside_the_folders_imports_a_provider_module():
    """Plotting, widgets, the CLI and the emulation package reach providers only through the registry."""
    allowed = {"demo.py"}  # the demo starts the real LNbits server
    for module in PACKAGE.rglob("*.py"):
        relative = module.relative_to(PACKAGE)
        if relative.parts[0] == "providers" or module.name in allowed:
            continue
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                parts = node.module.split(".")
                assert not (
                    parts[:2] == ["lnnotebook", "providers"]
                    and len(parts) > 2
                    and parts[2] in PROVIDER_PACKAGES
                ), f"{relative} imports {node.module}"
    assert providers.__name__ == "lnnotebook.providers"
