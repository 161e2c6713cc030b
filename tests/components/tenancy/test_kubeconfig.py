"""Kubeconfig builder: one cluster, one token user, one namespaced context; no token in errors."""

from __future__ import annotations

import base64
import random
import string

import pytest
import yaml

from components.tenancy.kubeconfig import (
    KubeconfigError,
    build_kubeconfig,
    certificate_authority_data,
    token_from_secret_data,
)

PEM = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.secret-token"


def _build(**overrides) -> dict:
    kwargs = dict(
        cluster_name="prod",
        server="https://10.0.0.1:6443",
        certificate_authority=PEM,
        namespace="acme-web",
        user="deployer",
        token=TOKEN,
    )
    kwargs.update(overrides)
    return yaml.safe_load(build_kubeconfig(**kwargs))


def test_kubeconfig_points_the_user_at_the_cluster_in_its_namespace():
    config = _build()
    (cluster,) = config["clusters"]
    (user,) = config["users"]
    (context,) = config["contexts"]
    assert cluster["name"] == "prod"
    assert cluster["cluster"]["server"] == "https://10.0.0.1:6443"
    assert (
        base64.b64decode(cluster["cluster"]["certificate-authority-data"]).decode().strip() == PEM
    )
    assert user == {"name": "deployer", "user": {"token": TOKEN}}
    assert context["context"] == {"cluster": "prod", "user": "deployer", "namespace": "acme-web"}
    assert config["current-context"] == context["name"]
    assert config["kind"] == "Config" and config["apiVersion"] == "v1"


def test_base64_ca_is_passed_through_unchanged():
    encoded = base64.b64encode(PEM.encode()).decode()
    assert certificate_authority_data(encoded) == encoded
    assert (
        _build(certificate_authority=encoded)["clusters"][0]["cluster"][
            "certificate-authority-data"
        ]
        == encoded
    )


@pytest.mark.parametrize("ca", ["not a cert", base64.b64encode(b"hello").decode()])
def test_ca_that_is_neither_pem_nor_base64_pem_is_refused(ca):
    with pytest.raises(KubeconfigError, match="PEM"):
        certificate_authority_data(ca)


@pytest.mark.parametrize("server", ["http://10.0.0.1:6443", "10.0.0.1:6443", "https://"])
def test_server_must_be_https_and_the_error_never_contains_the_token(server):
    with pytest.raises(KubeconfigError) as caught:
        _build(server=server)
    assert "https" in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_empty_token_is_refused():
    with pytest.raises(KubeconfigError, match="deployer"):
        _build(token="")


def test_token_is_decoded_from_the_secret_data():
    data = {"token": base64.b64encode(TOKEN.encode()).decode(), "ca.crt": "x"}
    assert token_from_secret_data(data) == TOKEN


@pytest.mark.parametrize("data", [None, {}, {"token": ""}])
def test_missing_token_says_the_controller_fills_it_in(data):
    with pytest.raises(KubeconfigError, match="token controller"):
        token_from_secret_data(data)


def test_undecodable_token_is_refused_without_echoing_it():
    with pytest.raises(KubeconfigError) as caught:
        token_from_secret_data({"token": "!!not-base64!!"})
    assert "!!not-base64!!" not in str(caught.value)


_ALPHABET = string.ascii_letters + string.digits + string.punctuation + "    "
_YAML_LOOKALIKES = [
    *("true", "null", "~", "1e3", "0x1f", "-", "-a", "a:", "@x", "1.0", "yes", "<<", " a"),
    *("a ", "a: b", "# c", "a #b", "'", '"', "!x", "&a", "*a", "%x", "|", "> x", "? a", "[a]"),
]


def _name(rnd: random.Random) -> str:
    pick = rnd.random()
    if pick < 0.2:
        return rnd.choice(_YAML_LOOKALIKES)
    if pick < 0.3:  # long enough for the emitters to fold it
        return " ".join(rnd.choice(_YAML_LOOKALIKES) for _ in range(rnd.randint(2, 40)))
    return "".join(rnd.choice(_ALPHABET) for _ in range(rnd.randint(1, 120)))


@pytest.mark.parametrize("odd", ["", "<service-account token>", "équipe", "a\tb", "a\nb", "\u2028"])
def test_kubeconfig_text_is_what_pyyaml_writes_for_any_names(odd):
    """The text stored in Vault must not change with the emitter that writes it: a different
    byte would update every project's kubeconfig secret on the next `pulumi up`."""
    rnd = random.Random(f"kubeconfig-{odd}")
    for _ in range(100):
        text = build_kubeconfig(
            cluster_name=_name(rnd) + odd,
            server=rnd.choice(["https://10.0.0.1:6443", "https://api.example.test"]),
            certificate_authority=PEM,
            namespace=_name(rnd),
            user=_name(rnd),
            token=_name(rnd),
        )
        assert text == yaml.safe_dump(yaml.safe_load(text), sort_keys=False)
