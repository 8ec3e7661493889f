"""connect(): options from keywords or LNNOTEBOOK_<PROVIDER>_<OPTION>, validated before any request."""

from __future__ import annotations

import os

import pytest

import lnnotebook as ln
from lnnotebook.options import Option, env_var, resolve_options
from lnnotebook.providers import REGISTRY, provider_class
from lnnotebook.providers.errors import ConfigurationError


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for variable in list(os.environ):
        if variable.startswith("LNNOTEBOOK_"):
            monkeypatch.delenv(variable)


def test_env_var_names():
    assert env_var("lnpay-legacy", "access_key") == "LNNOTEBOOK_LNPAY_LEGACY_ACCESS_KEY"
    assert env_var("barkd", "url") == "LNNOTEBOOK_BARKD_URL"


def test_keywords_win_over_environment(monkeypatch):
    monkeypatch.setenv("LNNOTEBOOK_BARKD_TOKEN", "from-env")
    monkeypatch.setenv("LNNOTEBOOK_BARKD_READ_TIMEOUT", "7.5")
    client = ln.connect("barkd", token="from-kwarg")
    assert client.config["token"] == "from-kwarg"
    assert client.timeout == (3.05, 7.5)
    assert client.url == "http://127.0.0.1:3000"  # barkd's default bind
    client.close()


def test_missing_option_names_argument_and_variable():
    with pytest.raises(ConfigurationError) as caught:
        ln.connect("lnpay", api_key="sak_x")
    assert caught.value.field == "wallet_key"
    assert "wallet_key=..." in str(caught.value) and "LNNOTEBOOK_LNPAY_WALLET_KEY" in str(caught.value)


def test_unknown_option_and_unknown_provider():
    with pytest.raises(ConfigurationError, match="unknown option.*'tokn'.*accepted: .*token"):
        ln.connect("barkd", tokn="x")
    with pytest.raises(ConfigurationError, match="unknown provider 'nosuch'.*barkd"):
        ln.connect("nosuch")


@pytest.mark.parametrize(
    ("variable", "value", "match"),
    [
        ("LNNOTEBOOK_TAZAPAY_READ_TIMEOUT", "soon", "non-negative number"),
        ("LNNOTEBOOK_TAZAPAY_RETRIES", "-1", "non-negative integer"),
        ("LNNOTEBOOK_TAZAPAY_ALLOW_INSECURE", "maybe", "boolean"),
    ],
)
def test_malformed_environment_values_name_the_variable(monkeypatch, variable, value, match):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError, match=match) as caught:
        ln.connect("tazapay", api_key="k", api_secret="s")
    assert variable in str(caught.value)


def test_secret_values_are_not_echoed_in_conversion_errors():
    specs = [Option("pin", int, required=True, secret=True)]
    with pytest.raises(ConfigurationError) as caught:
        resolve_options("x", specs, {"pin": "hunter2"})
    assert "hunter2" not in str(caught.value) and "<redacted>" in str(caught.value)


@pytest.mark.parametrize("url", ["http://api.lnpay.co/v1", "http://10.0.0.5:3000", "ftp://127.0.0.1"])
def test_plain_http_to_remote_hosts_is_refused(url):
    with pytest.raises(ConfigurationError) as caught:
        ln.connect("lnpay", url=url, api_key="sak_x", wallet_key="wal_x")
    assert caught.value.field == "url"


def test_insecure_http_needs_explicit_opt_in():
    client = ln.connect(
        "lnpay", url="http://10.0.0.5/v1", api_key="sak_x", wallet_key="wal_x", allow_insecure=True
    )
    assert client.url == "http://10.0.0.5/v1"
    client.close()
    for url in ("http://localhost:3000", "http://[::1]:3000", "https://api.lnpay.co/v1"):
        ln.connect("lnpay", url=url, api_key="k", wallet_key="w").close()


def test_registry_is_open_for_new_providers():
    assert set(REGISTRY) == {"barkd", "tazapay", "lnpay", "lnpay-legacy", "lnbits", "lnurl"}
    for name in REGISTRY:
        cls = provider_class(name)
        assert cls.name == name and issubclass(cls, ln.Provider)


def test_closed_client_refuses_work():
    client = ln.connect("barkd", token="t")
    client.close()
    with pytest.raises(ln.ProviderError, match="closed"):
        client.create_invoice(10)
