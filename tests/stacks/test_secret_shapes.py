"""Credential shapes in free text: each refused shape is found, ordinary text is left alone."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from components.formats import holds_private_key
from stacks.secret_shapes import find_credential
from tests.stacks.conftest import CA_DATA

REPO = Path(__file__).parents[2]
_JWT = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJzeXN0ZW06c2EifQ.c2lnbmF0dXJlLWJ5dGVz"
_KEY_PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEowIBAAKCAQEA0Z3VS5JJcds3xfn\n"
    "-----END RSA PRIVATE KEY-----\n"
)

FOUND = [
    (_JWT, "a JSON Web Token"),
    (f"deploy with token: {_JWT}", "a JSON Web Token"),
    ("users:\n- name: ci\n  user:\n    token: 9f8e7d6c5b4a39281706f5e4d3c2b1a0", "token:"),
    (
        "client-key-data: " + base64.b64encode(_KEY_PEM.encode()).decode(),
        "a PEM private key",
    ),
    ("client-key-data: a1b2c3d4e5f6a7b8c9d0e1f2", "client-key-data:"),
    (_KEY_PEM, "a PEM private key"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaA==", "a PEM private key"),
    ("aws key AKIAIOSFODNN7EXAMPLE for the bucket", "an AWS access key id"),
    ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "AWS secret"),
    ("DefaultEndpointsProtocol=https;AccountKey=" + "Qk" * 30 + "==", "an Azure account key"),
    ("AIzaSyA1234567890abcdefghijklmnopqrstuv", "a Google API key"),
    ("Authorization: Basic dXNlcjpwYXNz", "an Authorization header"),
    ("curl -H 'Authorization: Bearer abcdef123456'", "an Authorization header"),
    ("Bearer 0123456789abcdefghij0123456789", "a Bearer token"),
    ("use Basic dXNlcjpwYXNzd29yZA== for the proxy", "Basic credentials"),
    ("hvs.CAESIJlU2fN0dZ0o4xN1aB2cD3eF4gH5iJ6k", "a Vault token"),
    ("s.Xy12Ab34Cd56Ef78Gh90Ij12", "a Vault token"),
    ("ghp_" + "a1" * 18, "a GitHub token"),
]


@pytest.mark.parametrize(("text", "kind"), FOUND)
def test_each_credential_shape_is_found(text: str, kind: str) -> None:
    found = find_credential(text)
    assert found is not None, text
    assert kind in found.kind
    assert 0 <= found.offset < len(text)


ORDINARY = [
    "Deploys the payments API from CI",
    "rotate the bearer token every month; the token lives in Vault",
    "token: see Vault at secret/tenantguard/dev",
    "Basic authentication is off; Bearer authentication is used",
    "s.example.com is the status page",
    "registry.internal.example/library/nginx:1.27",
    "https://pce.example.com:8443",
    "oci://quay.io/illumio/illumio",
    "sha256:4bcdea72f8a1e0b6c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0",
    "AKIA is the prefix of AWS key ids",
    CA_DATA,
    base64.b64decode(CA_DATA).decode(),
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_text_and_ca_certificates_are_not_credentials(text: str) -> None:
    assert find_credential(text) is None


@pytest.mark.parametrize("name", ["dev.yaml", "prod.yaml"])
def test_no_string_of_a_shipped_stack_looks_like_a_credential(name: str) -> None:
    import yaml

    def strings(value: object) -> list[str]:
        if isinstance(value, str):
            return [value]
        if isinstance(value, dict):
            return [s for k, v in value.items() for s in strings(k) + strings(v)]
        if isinstance(value, list):
            return [s for item in value for s in strings(item)]
        return []

    document = yaml.safe_load((REPO / "stacks" / name).read_text(encoding="utf-8"))
    found = [text for text in strings(document) if find_credential(text) is not None]
    assert len(strings(document)) > 50
    assert found == []


def test_a_private_key_is_found_also_base64_encoded() -> None:
    encoded = base64.b64encode(_KEY_PEM.encode()).decode()
    assert holds_private_key(encoded)
    assert not holds_private_key(CA_DATA)
