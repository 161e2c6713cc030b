"""PCE connection settings: one pydantic model, read from Pulumi config or the environment.

`PceSettings.load(config, env)` is the one real loading path: a dynamic provider passes
`configure(req).config` (keys `illumio:pceUrl`, ...), a program passes nothing and gets
`ILLUMIO_*` environment variables. Errors name the config key and the env var and say
how to set them; the API secret stays a SecretStr and is never echoed.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from providers.illumio.errors import PceSettingsError

CONFIG_NAMESPACE = "illumio"
API_PATH = "/api/v2"

_log = logging.getLogger("tenantguard.pce")
_insecure_warned: set[str] = set()
_insecure_lock = threading.Lock()


@dataclass(frozen=True)
class SettingSource:
    """Where one field comes from: the Pulumi config key and the environment variable."""

    field: str
    key: str
    env: str
    secret: bool = False
    required: bool = False

    @property
    def config_key(self) -> str:
        return f"{CONFIG_NAMESPACE}:{self.key}"

    def how_to_set(self) -> str:
        secret = "--secret " if self.secret else ""
        return (
            f"set it with `pulumi config set {secret}{self.config_key} <value>` "
            f"or `export {self.env}=<value>`"
        )


SOURCES: tuple[SettingSource, ...] = (
    SettingSource("pce_url", "pceUrl", "ILLUMIO_PCE_URL", required=True),
    SettingSource("org_id", "orgId", "ILLUMIO_ORG_ID", required=True),
    SettingSource("api_key", "apiKey", "ILLUMIO_API_KEY", required=True),
    SettingSource("api_secret", "apiSecret", "ILLUMIO_API_SECRET", secret=True, required=True),
    SettingSource("ca_bundle", "caBundle", "ILLUMIO_CA_BUNDLE"),
    SettingSource(
        "insecure_skip_tls_verify", "insecureSkipTlsVerify", "ILLUMIO_INSECURE_SKIP_TLS_VERIFY"
    ),
    SettingSource("request_timeout", "requestTimeout", "ILLUMIO_REQUEST_TIMEOUT"),
    SettingSource("max_retries", "maxRetries", "ILLUMIO_MAX_RETRIES"),
    SettingSource(
        "max_requests_per_minute", "maxRequestsPerMinute", "ILLUMIO_MAX_REQUESTS_PER_MINUTE"
    ),
)
_BY_FIELD = {source.field: source for source in SOURCES}

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


def _source_label(field: str) -> str:
    source = _BY_FIELD.get(field)
    if source is None:
        return field
    return f"{source.config_key} ({source.env})"


class PceSettings(BaseModel):
    """How to reach one PCE organisation, validated; `repr`/`str` never show the secret."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pce_url: str = Field(description="https://host:port of the PCE, without /api/v2")
    org_id: int = Field(gt=0)
    api_key: str = Field(min_length=1)
    api_secret: SecretStr
    ca_bundle: str | None = None
    insecure_skip_tls_verify: bool = False
    request_timeout: float = Field(default=30, gt=0)
    max_retries: int = Field(default=5, ge=0, le=20)
    max_requests_per_minute: int = Field(default=450, ge=1, le=500)

    @field_validator("pce_url", mode="before")
    @classmethod
    def _normalise_url(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        text = value.strip()
        parts = urlsplit(text)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"{text!r} is not an http(s) URL; use e.g. https://pce.example.com:8443"
            )
        insecure = insecure_transport(text)
        if insecure:
            raise ValueError(insecure)
        if parts.username or parts.password:
            raise ValueError(
                "must not contain credentials; set illumio:apiKey and illumio:apiSecret instead"
            )
        if parts.query or parts.fragment:
            raise ValueError(f"{text!r} must not have a query or fragment")
        path = parts.path.rstrip("/")
        if path.endswith(API_PATH):
            path = path[: -len(API_PATH)].rstrip("/")
        if path:
            raise ValueError(
                f"{text!r} must not have a path ({path!r}); give only scheme, host and port, "
                "e.g. https://pce.example.com:8443"
            )
        try:
            _ = parts.port
        except ValueError as exc:
            raise ValueError(f"{text!r} has an invalid port") from exc
        return f"{parts.scheme.lower()}://{parts.netloc}"

    @field_validator("api_key", mode="before")
    @classmethod
    def _strip_key(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("api_secret", mode="before")
    @classmethod
    def _non_empty_secret(cls, value: Any) -> Any:
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        if not isinstance(raw, str) or not raw:
            # The value is deliberately not echoed.
            raise ValueError("must be a non-empty string")
        return value

    @field_validator("org_id", mode="before")
    @classmethod
    def _integer_org(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("must be a positive integer, not a boolean")
        if isinstance(value, str):
            text = value.strip()
            if not text.isdigit():
                raise ValueError(f"{value!r} is not a positive integer")
            return int(text)
        return value

    @field_validator("insecure_skip_tls_verify", mode="before")
    @classmethod
    def _boolean(cls, value: Any) -> Any:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str):
            text = value.strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
        raise ValueError(f"{value!r} is not a boolean; use true/false, 1/0 or yes/no")

    @field_validator("ca_bundle", mode="before")
    @classmethod
    def _pem_file(cls, value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, str):
            raise ValueError("must be a path to a PEM file")
        path = Path(value.strip()).expanduser()
        if not path.is_file():
            raise ValueError(f"{str(path)!r} is not a readable file (expected a PEM CA bundle)")
        try:
            head = path.read_text(encoding="ascii", errors="replace")
        except OSError as exc:
            raise ValueError(f"{str(path)!r} cannot be read: {exc.strerror}") from exc
        if "-----BEGIN CERTIFICATE-----" not in head:
            raise ValueError(
                f"{str(path)!r} holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
            )
        return str(path)

    @model_validator(mode="after")
    def _one_tls_mode(self) -> PceSettings:
        if self.ca_bundle and self.insecure_skip_tls_verify:
            raise ValueError(
                "illumio:caBundle and illumio:insecureSkipTlsVerify are both set; "
                "keep the CA bundle and drop insecureSkipTlsVerify"
            )
        return self

    @property
    def api_base(self) -> str:
        """The API root every href is appended to, e.g. https://pce:8443/api/v2."""
        return self.pce_url + API_PATH

    @property
    def org_href(self) -> str:
        return f"/orgs/{self.org_id}"

    @property
    def verify(self) -> bool | str:
        """The `verify` argument for requests: a CA bundle path, True, or False (insecure)."""
        if self.insecure_skip_tls_verify:
            warn_insecure_once(self.pce_url)
            return False
        return self.ca_bundle or True

    @classmethod
    def load(
        cls,
        config: Mapping[str, str] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> PceSettings:
        """Build settings from config keys (`illumio:x` or bare `x`), falling back to env vars.

        `env` defaults to `os.environ`. Empty values count as unset. Raises
        PceSettingsError listing every missing or invalid setting at once.
        """
        config = config or {}
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        problems: list[str] = []
        for source in SOURCES:
            raw = _lookup(config, source.config_key, source.key)
            if raw is None:
                raw = _blank_to_none(env.get(source.env))
            if raw is None:
                if source.required:
                    problems.append(
                        f"{source.config_key} ({source.env}) is not set: {source.how_to_set()}"
                    )
                continue
            values[source.field] = raw
        if problems:
            raise PceSettingsError(
                "Illumio PCE settings are incomplete:\n  " + "\n  ".join(problems)
            )
        try:
            return cls(**values)
        except ValidationError as exc:
            raise PceSettingsError(_describe(exc)) from None

    @classmethod
    def from_pulumi_config(cls, env: Mapping[str, str] | None = None) -> PceSettings:
        """Read `pulumi.Config("illumio")` (inside a Pulumi program) with env fallback."""
        import pulumi

        cfg = pulumi.Config(CONFIG_NAMESPACE)
        config = {s.config_key: v for s in SOURCES if (v := cfg.get(s.key)) is not None}
        return cls.load(config, env)


def is_loopback_host(host: str) -> bool:
    """Whether `host` names this machine (localhost, 127.0.0.0/8, ::1), where http is safe."""
    name = host.strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def insecure_transport(url: str) -> str | None:
    """Why `url` would send the API secret in clear (http to another host), or None.

    Basic auth over http is readable by anyone on the path, so http is allowed only
    to a loopback host (a local emulator or tunnel).
    """
    parts = urlsplit(url.strip())
    if parts.scheme.lower() != "http" or is_loopback_host(parts.hostname or ""):
        return None
    return (
        f"http://{parts.hostname} would send the API secret in clear; use "
        f"https://{parts.netloc} (http is allowed only for a loopback host such as "
        "127.0.0.1 or localhost)"
    )


def _lookup(config: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        value = _blank_to_none(config.get(key))
        if value is not None:
            return value
    return None


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _describe(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors(include_input=False, include_url=False):
        field = str(error["loc"][0]) if error["loc"] else ""
        message = str(error["msg"]).removeprefix("Value error, ")
        source = _BY_FIELD.get(field)
        if source is None:
            lines.append(message)
            continue
        allowed = _ALLOWED.get(field, "")
        lines.append(f"{_source_label(field)}: {message}{allowed}; {source.how_to_set()}")
    return "Illumio PCE settings are invalid:\n  " + "\n  ".join(lines)


_ALLOWED = {
    "org_id": " (a positive integer)",
    "request_timeout": " (seconds, greater than 0)",
    "max_retries": " (an integer from 0 to 20)",
    "max_requests_per_minute": " (an integer from 1 to 500; the PCE allows 500 per minute)",
}


def warn_insecure_once(pce_url: str) -> None:
    """Log one warning per PCE URL and process that TLS verification is off."""
    with _insecure_lock:
        if pce_url in _insecure_warned:
            return
        _insecure_warned.add(pce_url)
    _log.warning(
        "TLS certificate verification is OFF for %s (illumio:insecureSkipTlsVerify); "
        "set illumio:caBundle to the PCE's CA instead outside a lab",
        pce_url,
    )
