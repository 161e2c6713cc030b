"""PceSettings: where each value comes from, what is allowed, and that the secret stays hidden."""

from __future__ import annotations

import contextvars
import logging
from pathlib import Path

import pytest

from providers.illumio import settings as settings_module
from providers.illumio.errors import IllumioManagerError, PceSettingsError
from providers.illumio.settings import PceSettings

SECRET = "s3cr3t-Value-that-must-never-show"
BASE = {
    "illumio:pceUrl": "https://pce.example.com:8443",
    "illumio:orgId": "1",
    "illumio:apiKey": "api_0123456789abcdef",
    "illumio:apiSecret": SECRET,
}
PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def load(env: dict[str, str] | None = None, **overrides: str) -> PceSettings:
    config = dict(BASE)
    for key, value in overrides.items():
        config[f"illumio:{key}"] = value
    return PceSettings.load(config, env or {})


def error_of(env: dict[str, str] | None = None, **overrides: str) -> str:
    with pytest.raises(PceSettingsError) as caught:
        load(env, **overrides)
    text = str(caught.value)
    assert SECRET not in text
    return text


def test_reads_prefixed_config_keys_with_defaults():
    s = load()
    assert s.pce_url == "https://pce.example.com:8443"
    assert s.org_id == 1
    assert s.api_key == "api_0123456789abcdef"
    assert s.api_secret.get_secret_value() == SECRET
    assert (s.request_timeout, s.max_retries, s.max_requests_per_minute) == (30, 5, 450)
    assert s.ca_bundle is None and s.insecure_skip_tls_verify is False
    assert s.api_base == "https://pce.example.com:8443/api/v2"
    assert s.org_href == "/orgs/1"
    assert s.verify is True


def test_bare_keys_are_accepted():
    bare = {key.removeprefix("illumio:"): value for key, value in BASE.items()}
    assert PceSettings.load(bare, {}).org_id == 1


def test_environment_fills_what_config_lacks_and_config_wins():
    env = {
        "ILLUMIO_PCE_URL": "https://env-pce.example.com",
        "ILLUMIO_ORG_ID": "7",
        "ILLUMIO_API_KEY": "api_env",
        "ILLUMIO_API_SECRET": SECRET,
        "ILLUMIO_MAX_RETRIES": "2",
        "ILLUMIO_REQUEST_TIMEOUT": "4.5",
        "ILLUMIO_MAX_REQUESTS_PER_MINUTE": "100",
    }
    s = PceSettings.load({"illumio:orgId": "3", "illumio:maxRetries": ""}, env)
    assert s.org_id == 3  # config wins
    assert s.max_retries == 2  # an empty config value counts as unset
    assert s.pce_url == "https://env-pce.example.com"
    assert (s.request_timeout, s.max_requests_per_minute) == (4.5, 100)


def test_env_defaults_to_the_process_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ILLUMIO_PCE_URL", "https://pce.example.com")
    monkeypatch.setenv("ILLUMIO_ORG_ID", "2")
    monkeypatch.setenv("ILLUMIO_API_KEY", "api_x")
    monkeypatch.setenv("ILLUMIO_API_SECRET", SECRET)
    assert PceSettings.load().org_id == 2


def test_missing_secret_names_the_key_the_env_var_and_how_to_set_it():
    config = {k: v for k, v in BASE.items() if k != "illumio:apiSecret"}
    with pytest.raises(PceSettingsError) as caught:
        PceSettings.load(config, {})
    text = str(caught.value)
    assert "illumio:apiSecret" in text
    assert "ILLUMIO_API_SECRET" in text
    assert "pulumi config set --secret illumio:apiSecret" in text
    assert "export ILLUMIO_API_SECRET" in text
    assert isinstance(caught.value, IllumioManagerError)


def test_everything_missing_is_reported_at_once():
    with pytest.raises(PceSettingsError) as caught:
        PceSettings.load({}, {})
    text = str(caught.value)
    for key, env in [
        ("illumio:pceUrl", "ILLUMIO_PCE_URL"),
        ("illumio:orgId", "ILLUMIO_ORG_ID"),
        ("illumio:apiKey", "ILLUMIO_API_KEY"),
        ("illumio:apiSecret", "ILLUMIO_API_SECRET"),
    ]:
        assert key in text and env in text
    assert "pulumi config set illumio:pceUrl" in text  # not --secret for plain values


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://pce.example.com:8443/", "https://pce.example.com:8443"),
        ("https://pce.example.com:8443/api/v2", "https://pce.example.com:8443"),
        ("https://pce.example.com:8443/api/v2/", "https://pce.example.com:8443"),
        ("HTTPS://pce.example.com", "https://pce.example.com"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://localhost:8080", "http://localhost:8080"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        ("http://127.8.9.10", "http://127.8.9.10"),
        ("  https://pce.example.com  ", "https://pce.example.com"),
    ],
)
def test_pce_url_is_normalised(given: str, expected: str):
    assert load(pceUrl=given).pce_url == expected


@pytest.mark.parametrize(
    ("given", "why"),
    [
        ("pce.example.com:8443", "http(s) URL"),
        ("ftp://pce.example.com", "http(s) URL"),
        ("https://pce.example.com/pce", "must not have a path"),
        ("https://pce.example.com/api/v1", "must not have a path"),
        ("https://user:pw@pce.example.com", "must not contain credentials"),
        ("https://pce.example.com?x=1", "query"),
        ("https://pce.example.com:99999", "invalid port"),
        ("http://pce.example.com:8443", "use https://pce.example.com:8443"),
        ("http://10.1.2.3", "would send the API secret in clear"),
        ("http://localhost.example.com", "allowed only for a loopback host"),
    ],
)
def test_bad_pce_urls_are_refused_with_the_reason(given: str, why: str):
    text = error_of(pceUrl=given)
    assert "illumio:pceUrl" in text and "ILLUMIO_PCE_URL" in text
    assert why in text


@pytest.mark.parametrize(
    ("key", "value", "env"),
    [
        ("orgId", "0", "ILLUMIO_ORG_ID"),
        ("orgId", "-1", "ILLUMIO_ORG_ID"),
        ("orgId", "one", "ILLUMIO_ORG_ID"),
        ("requestTimeout", "0", "ILLUMIO_REQUEST_TIMEOUT"),
        ("requestTimeout", "-2", "ILLUMIO_REQUEST_TIMEOUT"),
        ("maxRetries", "21", "ILLUMIO_MAX_RETRIES"),
        ("maxRetries", "-1", "ILLUMIO_MAX_RETRIES"),
        ("maxRequestsPerMinute", "0", "ILLUMIO_MAX_REQUESTS_PER_MINUTE"),
        ("maxRequestsPerMinute", "501", "ILLUMIO_MAX_REQUESTS_PER_MINUTE"),
        ("insecureSkipTlsVerify", "maybe", "ILLUMIO_INSECURE_SKIP_TLS_VERIFY"),
    ],
)
def test_out_of_range_values_name_key_env_and_allowed_range(key: str, value: str, env: str):
    text = error_of(**{key: value})
    assert f"illumio:{key}" in text and env in text


def test_range_errors_say_what_is_allowed():
    assert "from 1 to 500" in error_of(maxRequestsPerMinute="600")
    assert "from 0 to 20" in error_of(maxRetries="99")


def test_limits_at_the_edges_are_accepted():
    s = load(maxRetries="0", maxRequestsPerMinute="500", requestTimeout="0.5")
    assert (s.max_retries, s.max_requests_per_minute, s.request_timeout) == (0, 500, 0.5)
    assert load(maxRetries="20", maxRequestsPerMinute="1").max_requests_per_minute == 1


@pytest.mark.parametrize(
    ("text", "value"),
    [("true", True), ("TRUE", True), ("1", True), ("yes", True), ("false", False),
     ("0", False), ("No", False)],
)  # fmt: skip
def test_boolean_strings(text: str, value: bool):
    assert load(insecureSkipTlsVerify=text).insecure_skip_tls_verify is value


def test_ca_bundle_is_a_pem_file_used_for_verification(tmp_path: Path):
    pem = tmp_path / "pce-ca.pem"
    pem.write_text(PEM)
    s = load(caBundle=str(pem))
    assert s.ca_bundle == str(pem)
    assert s.verify == str(pem)


def test_ca_bundle_must_exist_and_hold_a_certificate(tmp_path: Path):
    assert "not a readable file" in error_of(caBundle=str(tmp_path / "missing.pem"))
    junk = tmp_path / "junk.pem"
    junk.write_text("hello")
    assert "no PEM certificate" in error_of(caBundle=str(junk))


def test_ca_bundle_and_insecure_together_are_refused(tmp_path: Path):
    pem = tmp_path / "ca.pem"
    pem.write_text(PEM)
    text = error_of(caBundle=str(pem), insecureSkipTlsVerify="true")
    assert "illumio:caBundle" in text and "illumio:insecureSkipTlsVerify" in text


def test_insecure_turns_verification_off_and_warns_once(caplog: pytest.LogCaptureFixture):
    settings_module._insecure_warned.discard("https://insecure.example.com")
    s = load(pceUrl="https://insecure.example.com", insecureSkipTlsVerify="yes")
    with caplog.at_level(logging.WARNING, logger="tenantguard.pce"):
        assert s.verify is False
        assert s.verify is False
        load(pceUrl="https://insecure.example.com", insecureSkipTlsVerify="1").verify  # noqa: B018
    warnings = [r for r in caplog.records if "verification is OFF" in r.getMessage()]
    assert len(warnings) == 1
    assert "https://insecure.example.com" in warnings[0].getMessage()
    assert SECRET not in caplog.text


def test_secret_never_shows_in_repr_str_or_json():
    s = load()
    for text in (repr(s), str(s), s.model_dump_json(), f"{s}"):
        assert SECRET not in text
    assert "**********" in repr(s)


def test_invalid_secret_value_is_not_echoed():
    text = error_of(apiSecret="   ")  # blank counts as missing
    assert "illumio:apiSecret" in text
    # A secret present alongside another bad value never appears in the message.
    text = error_of(orgId="zero")
    assert "illumio:orgId" in text


def test_settings_are_immutable():
    s = load()
    with pytest.raises(ValueError):
        s.org_id = 2  # type: ignore[misc]


def test_from_pulumi_config_reads_the_illumio_namespace():
    from pulumi.runtime import config as pulumi_config

    def read() -> PceSettings:
        pulumi_config.set_all_config(
            {
                "illumio:pceUrl": "https://from-config.example.com/api/v2",
                "illumio:orgId": "9",
                "illumio:apiKey": "api_cfg",
                "illumio:apiSecret": SECRET,
                "illumio:maxRetries": "3",
            },
            ["illumio:apiSecret"],
        )
        return PceSettings.from_pulumi_config(env={"ILLUMIO_REQUEST_TIMEOUT": "12"})

    # Pulumi keeps config in context variables: a copied context leaves other tests alone.
    s = contextvars.copy_context().run(read)
    assert s.pce_url == "https://from-config.example.com"
    assert (s.org_id, s.api_key, s.max_retries, s.request_timeout) == (9, "api_cfg", 3, 12)
    assert s.api_secret.get_secret_value() == SECRET


def test_an_http_url_to_another_host_is_refused_before_any_connection(
    monkeypatch: pytest.MonkeyPatch,
):
    import socket

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("a connection was attempted")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    text = error_of(pceUrl="http://pce.example.com:8443")
    assert "would send the API secret in clear" in text
    assert "pce.example.com" in text
