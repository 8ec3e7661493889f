"""The emulators speak each provider's documented contract (raw HTTP, no client code involved)."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from importlib.resources import files

import pytest
import requests
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

import lnnotebook as ln


def response_validator(package: str, path: str, method: str, status: str) -> Draft202012Validator:
    """A validator for one response schema of a provider's OpenAPI 3.1 document (JSON Schema 2020-12
    dialect), read from the provider's folder in the package."""
    spec = yaml.safe_load((files(f"lnnotebook.providers.{package}") / "openapi.yaml").read_text("utf-8"))
    schema = spec["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
    registry = Registry().with_resource(
        "urn:spec", Resource.from_contents(spec, default_specification=DRAFT202012)
    )
    wrapper = {"$schema": "https://json-schema.org/draft/2020-12/schema", **_rebase(schema)}
    return Draft202012Validator(wrapper, registry=registry)


def _rebase(schema):
    """Point local ``#/components/...`` references at the registered document."""
    if isinstance(schema, dict):
        return {
            k: ("urn:spec" + v if k == "$ref" and v.startswith("#") else _rebase(v))
            for k, v in schema.items()
        }
    if isinstance(schema, list):
        return [_rebase(item) for item in schema]
    return schema


@pytest.fixture(scope="module")
def sb():
    with ln.sandbox(seed="contract") as box:
        yield box


@pytest.fixture(scope="module")
def http():
    with requests.Session() as session:
        yield session


# --- barkd -----------------------------------------------------------------------------------


def barkd_auth(sb):
    return {"Authorization": f"Bearer {sb.credentials('barkd')['token']}"}


def test_barkd_token_has_the_documented_format(sb):
    token = sb.credentials("barkd")["token"]
    assert len(token) == 44 and "=" not in token
    raw = base64.urlsafe_b64decode(token + "=")
    assert len(raw) == 33 and raw[0] == 0


def test_barkd_create_and_errors_validate_against_the_openapi_schema(sb, http):
    path = "/api/v1/lightning/receives/invoice"
    ok = response_validator("barkd", path, "post", "200")
    error = response_validator("barkd", path, "post", "500")
    url = sb.url("barkd") + path
    response = http.post(url, json={"amount_sat": 1500, "description": "schema"}, headers=barkd_auth(sb))
    assert response.status_code == 200
    ok.validate(response.json())
    assert ln.decode(response.json()["invoice"]).network == "tbs"
    response = http.post(url, json={"amount_sat": 1500}, headers=barkd_auth(sb))  # description optional
    ok.validate(response.json())
    response = http.post(url, json={"amount_sat": 0}, headers=barkd_auth(sb))
    assert response.status_code == 500
    error.validate(response.json())
    sb.inject("barkd", "500")
    response = http.post(url, json={"amount_sat": 10}, headers=barkd_auth(sb))
    assert response.status_code == 500
    error.validate(response.json())
    with pytest.raises(Exception, match="is a required property"):
        ok.validate({"bolt11": "x"})  # the validator really checks


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "missing auth token"),
        ({"Authorization": "AuthToken abc"}, "missing auth token"),  # CHANGELOG scheme: not accepted
        ({"Authorization": "bearer abc"}, "missing auth token"),  # prefix is case-sensitive
        ({"Authorization": "Bearer AAAA"}, "invalid auth token"),
    ],
)
def test_barkd_auth_failures(sb, http, headers, message):
    response = http.post(
        sb.url("barkd") + "/api/v1/lightning/receives/invoice", json={"amount_sat": 1}, headers=headers
    )
    assert response.status_code == 401 and response.json() == {"message": message}


def test_barkd_token_whitespace_is_trimmed_and_ping_is_open(sb, http):
    token = sb.credentials("barkd")["token"]
    response = http.get(
        sb.url("barkd") + "/api/v1/fees/lightning/receive",
        params={"amount_sat": 1000},
        headers={"Authorization": f"Bearer  {token} "},
    )
    assert response.status_code == 200
    assert set(response.json()) == {"gross_amount_sat", "fee_sat", "net_amount_sat", "vtxos_spent"}
    assert http.get(sb.url("barkd") + "/ping").text == "pong"


def test_barkd_axum_rejections_and_bad_amounts(sb, http):
    url = sb.url("barkd") + "/api/v1/lightning/receives/invoice"
    auth = barkd_auth(sb)
    assert http.post(url, data="{}", headers=auth).status_code == 415
    broken = http.post(url, data="{", headers={**auth, "Content-Type": "application/json"})
    assert broken.status_code == 400 and "parse the request body" in broken.text
    negative = http.post(url, json={"amount_sat": -1}, headers=auth)
    assert negative.status_code == 422 and "amount_sat" in negative.text
    assert http.post(url, json={}, headers=auth).status_code == 422
    fee = http.get(
        sb.url("barkd") + "/api/v1/fees/lightning/receive", params={"amount_sat": "x"}, headers=auth
    )
    assert fee.status_code == 400 and fee.json() == {"message": "Invalid amount"}


def test_barkd_status_by_hash_invoice_and_preimage(sb, http):
    auth = barkd_auth(sb)
    invoice = http.post(
        sb.url("barkd") + "/api/v1/lightning/receives/invoice", json={"amount_sat": 10}, headers=auth
    ).json()["invoice"]
    decoded = ln.decode(invoice)
    base = sb.url("barkd") + "/api/v1/lightning/receives/"
    for identifier in (decoded.payment_hash, invoice):
        info = http.get(base + identifier, headers=auth).json()
        assert info["state"] == "awaiting-payment" and info["payment_preimage"] is None
    sb.pay(invoice)
    info = http.get(base + decoded.payment_hash, headers=auth).json()
    assert info["state"] == "settled" and info["settled_at"] == info["finished_at"]
    by_preimage = http.get(base + info["payment_preimage"], headers=auth).json()
    assert by_preimage["payment_hash"] == decoded.payment_hash
    unknown = http.get(base + "11" * 32, headers=auth)
    assert unknown.status_code == 500 and "no pending lightning receive found" in unknown.json()["message"]
    assert http.get(base + "zz", headers=auth).status_code == 400


# --- Tazapay ---------------------------------------------------------------------------------


def tazapay_auth(sb):
    creds = sb.credentials("tazapay")
    return (creds["api_key"], creds["api_secret"])


def test_tazapay_create_validates_against_the_openapi_schema(sb, http):
    validator = response_validator("tazapay", "/v3/lightning_invoice_bolt11", "post", "200")
    response = http.post(
        sb.url("tazapay") + "/v3/lightning_invoice_bolt11",
        auth=tazapay_auth(sb),
        json={
            "amount": 12345600,
            "d_tag_memo": "Payment for order #7890",
            "expiry_interval": 4800,
            "metadata": json.dumps({"order_id": "7890"}),
        },
    )
    assert response.status_code == 200
    body = response.json()
    validator.validate(body)
    data = json.loads(body["data"])
    assert data["object"] == "lightning_invoice_bolt11" and data["id"].startswith("l11_")
    assert (
        data["status"] == "active"
        and data["payment_status"] == "unpaid"
        and data["metadata"]["order_id"] == "7890"
    )
    assert ln.decode(data["bolt11"]).network == "tb"
    fetched = http.get(
        sb.url("tazapay") + f"/v3/lightning_invoice_bolt11/{data['id']}", auth=tazapay_auth(sb)
    )
    validator.validate(fetched.json())
    updated = http.put(
        sb.url("tazapay") + f"/v3/lightning_invoice_bolt11/{data['id']}",
        auth=tazapay_auth(sb),
        json={"metadata": {"note": "x"}},
    )
    assert json.loads(updated.json()["data"])["metadata"] == {"note": "x"}


def test_tazapay_object_data_mode_does_not_match_the_schema():
    # Documents the docs/schema conflict: the examples' object form fails the schema's `type: string`.
    validator = response_validator("tazapay", "/v3/lightning_invoice_bolt11", "post", "200")
    with ln.sandbox(providers=["tazapay"], tazapay_data_format="object") as box:
        body = requests.post(
            box.url("tazapay") + "/v3/lightning_invoice_bolt11", auth=tazapay_auth(box), json={"amount": 5}
        ).json()
    assert isinstance(body["data"], dict)
    assert not validator.is_valid(body)


@pytest.mark.parametrize(
    ("auth", "code"),
    [(None, 109), ("garbage", 108), (("ak_test_x", "nope"), 111)],
)
def test_tazapay_auth_errors(sb, http, auth, code):
    headers = {"Authorization": "Basic !!!"} if auth == "garbage" else {}
    response = http.post(
        sb.url("tazapay") + "/v3/lightning_invoice_bolt11",
        json={"amount": 5},
        auth=None if auth == "garbage" else auth,
        headers=headers,
    )
    assert response.status_code == 401
    body = response.json()
    assert body["status"] == "error" and body["errors"][0]["code"] == code


@pytest.mark.parametrize(
    ("payload", "remarks"),
    [
        ({}, "amount"),
        ({"amount": "5"}, "amount"),
        ({"amount": 0}, "amount"),
        ({"amount": 5, "expiry_interval": -1}, "expiry_interval"),
        ({"amount": 5, "h_tag_memo": "zz"}, "h_tag_memo"),
        ({"amount": 5, "metadata": "{not json"}, "metadata"),
    ],
)
def test_tazapay_validation_errors(sb, http, payload, remarks):
    response = http.post(
        sb.url("tazapay") + "/v3/lightning_invoice_bolt11", json=payload, auth=tazapay_auth(sb)
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["remarks"] == remarks


def test_tazapay_bad_json_and_unknown_id(sb, http):
    response = http.post(sb.url("tazapay") + "/v3/lightning_invoice_bolt11", data="{", auth=tazapay_auth(sb))
    assert response.status_code == 400 and response.json()["errors"][0]["code"] == 100
    missing = http.get(sb.url("tazapay") + "/v3/lightning_invoice_bolt11/l11_nope", auth=tazapay_auth(sb))
    assert missing.status_code == 404 and missing.json()["errors"][0]["code"] == 105


# --- LNPay -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["lnpay", "lnpay-legacy"])
def test_lnpay_accepts_every_documented_auth_form_and_returns_201(sb, http, name):
    creds = sb.credentials(name)
    key = creds["api_key"]
    wallet = creds["wallet_key" if name == "lnpay" else "access_key"]
    path = f"/wallet/{wallet}/invoice" if name == "lnpay" else f"/user/wallet/{wallet}/invoice"
    url = sb.url(name) + path
    forms = [
        {"headers": {"X-Api-Key": key}},
        {"params": {"access-token": key}},
        {"auth": (key, "")},
    ]
    for form in forms:
        response = http.post(url, json={"num_satoshis": 20, "memo": "Test invoice from the docs"}, **form)
        assert response.status_code == 201, response.text
        lntx = response.json()
        assert lntx["id"].startswith("lntx_") and lntx["settled"] == 0 and lntx["num_satoshis"] == 20
        assert ln.decode(lntx["payment_request"]).payment_hash == lntx["r_hash_decoded"]
    bad = http.post(url, json={"num_satoshis": 20}, headers={"X-Api-Key": "sak_wrong"})
    assert bad.status_code == 401
    assert bad.json() == {
        "name": "Unauthorized",
        "message": "Your request was made with invalid credentials.",
        "code": 0,
        "status": 401,
        "type": "UnauthorizedHttpException",
    }


def test_lnpay_quirks_on_the_wire(sb, http):
    creds = sb.credentials("lnpay")
    headers = {"X-Api-Key": creds["api_key"]}
    url = sb.url("lnpay") + f"/wallet/{creds['wallet_key']}/invoice"
    as_string = http.post(url, json={"num_satoshis": "7"}, headers=headers)  # LNbits sends a string
    assert as_string.status_code == 201 and as_string.json()["expiry"] == 86400
    base64_hash = base64.b64encode(b"\x01" * 32).decode()  # the docs' base64 form: refused, core wants hex
    assert (
        http.post(url, json={"num_satoshis": 7, "description_hash": base64_hash}, headers=headers).status_code
        == 400
    )
    bad_pass_thru = http.post(url, json={"num_satoshis": 7, "passThru": "{oops"}, headers=headers)
    assert (
        bad_pass_thru.status_code == 400
        and bad_pass_thru.json()["message"] == "passThru data must be valid json"
    )
    lntx = as_string.json()
    trimmed = http.get(
        sb.url("lnpay") + f"/lntx/{lntx['id']}", params={"fields": "id,settled"}, headers=headers
    )
    assert trimmed.json() == {"id": lntx["id"], "settled": 0}
    missing = http.get(sb.url("lnpay") + "/lntx/lntx_nope", headers=headers)
    assert missing.status_code == 401 and missing.json()["message"] == "LnTx not found"


# --- sandbox API -----------------------------------------------------------------------------


def test_sandbox_api_and_errors(sb):
    assert sb.names() == ["barkd", "tazapay", "lnpay", "lnpay-legacy", "lnurl"]
    assert sb.url("lnpay").endswith("/v1") and sb.url("barkd").startswith("http://127.0.0.1:")
    env = sb.env()
    assert env["LNNOTEBOOK_LNPAY_LEGACY_ACCESS_KEY"] == sb.credentials("lnpay-legacy")["access_key"]
    assert [p.name for p in sb.providers()] == sb.names()
    with pytest.raises(ValueError, match="unknown fault"):
        sb.inject("barkd", "explode")
    with pytest.raises(KeyError, match="no emulator 'lnbits'"):
        sb.minted("lnbits")
    with pytest.raises(ValueError, match="no emulator in this sandbox"):
        sb.pay("lnbc1junk")
    with pytest.raises(TypeError, match="unknown sandbox option"):
        ln.sandbox(colour="blue")


def test_a_restarted_sandbox_still_adds_its_latency():
    box = ln.sandbox(latency=0.3, providers=["barkd"])
    for _ in range(2):  # start, close, start again
        with box:
            started = time.monotonic()
            box.connect("barkd", ledger=False).receive_fee(10)
            assert time.monotonic() - started >= 0.3


def test_connect_reads_the_sandbox_environment(sb, monkeypatch):
    for variable, value in sb.env().items():
        monkeypatch.setenv(variable, value)
    for name in sb.names():
        with ln.connect(name) as client:
            assert client.create_invoice(3).provider == name


@pytest.mark.parametrize(
    "command",
    [["-m", "lnnotebook.emulation"], ["-m", "lnnotebook.cli", "sandbox"]],
    ids=["python -m lnnotebook.emulation", "lnnotebook sandbox"],
)
def test_command_line_prints_exports_and_serves_until_interrupted(command):
    process = subprocess.Popen(
        [sys.executable, *command, "--seed", "cli"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        lines = []
        while not lines or not lines[-1].startswith("# serving"):
            line = process.stdout.readline()
            assert line, "sandbox exited early"
            lines.append(line.strip())
        exports = dict(
            line.removeprefix("export ").split("=", 1) for line in lines if line.startswith("export ")
        )
        assert {
            "LNNOTEBOOK_BARKD_URL",
            "LNNOTEBOOK_BARKD_TOKEN",
            "LNNOTEBOOK_TAZAPAY_API_SECRET",
            "LNNOTEBOOK_LNPAY_WALLET_KEY",
            "LNNOTEBOOK_LNPAY_LEGACY_ACCESS_KEY",
            "LNNOTEBOOK_LNURL_ADDRESS",
        } <= set(exports)
        with ln.connect("lnurl", address=exports["LNNOTEBOOK_LNURL_ADDRESS"], ledger=False) as lnurl:
            assert lnurl.create_invoice(5, "from the command line").bolt11.startswith("lnbc50n1")
        client = ln.connect(
            "lnpay",
            url=exports["LNNOTEBOOK_LNPAY_URL"],
            api_key=exports["LNNOTEBOOK_LNPAY_API_KEY"],
            wallet_key=exports["LNNOTEBOOK_LNPAY_WALLET_KEY"],
        )
        assert client.create_invoice(5).bolt11.startswith("lnbc50n1")
        client.close()
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
