"""What a render hides: the secret fields of the documents it writes, and every secret text.

Two lines of defence. The first is field by field, and each kind of document takes the
names of its secret fields from the ONE place that also makes it secret:

- Kubelink's Helm values (the Release under a ClusterOnboarding, `values` marked secret
  through `additional_secret_outputs`): the keys in
  `components.illumio.kubelink_values.SECRET_VALUE_KEYS` are `[secret]`, the other chart
  settings are shown (extra values are a spec's public settings: the spec loader refuses
  secret-looking keys and credential shapes in them).
- The cluster's Vault document (a SecretV2 under a ClusterOnboarding): the fields in
  `components.illumio.onboarding.VAULT_SECRET_FIELDS` are `[secret]`, `cluster_id` is shown.
- A project's Vault document (a SecretV2 under a Project) holds the namespace, service
  account and token duration, all public spec values, and the account's kubeconfig, whose
  only secret is its user's token: the kubeconfig is shown as its outline
  (`tenantguard.kubeconfig_outline`, an allowlist read from the kubeconfig format).
- Any other Vault document, and any other secret-marked value, is blanked whole (keys
  kept): a writer this module does not know has not said which of its fields are public.
- A secret stack export is blanked whole too, except that a kubeconfig in it is outlined.

The second line is `scrub`: every secret text the run saw (marked values, secret outputs,
secret exports, secret-looking config, and the values the first line hides) is removed
from every file, whatever key or document it surfaces in.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from components.illumio.kubelink_values import SECRET_VALUE_KEYS
from components.illumio.onboarding import TYPE_TOKEN as ONBOARDING_TYPE
from components.illumio.onboarding import VAULT_SECRET_FIELDS
from components.tenancy.project import TYPE_TOKEN as PROJECT_TYPE
from tenantguard.kubeconfig_outline import credential_texts, outline_text
from tenantguard.recording_mocks import Recording, Registered
from tenantguard.redact import REDACTED, blank, is_secret, redact, secret_texts, unwrap

SECRET_CONFIG_KEY = re.compile(r"secret|token|passw|kubeconfig|credential|private", re.I)
VAULT_DATA_KEYS = ("dataJson", "data", "data_json")
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
VAULT_PREFIX = "vault:"


def owner_types(resource: Registered) -> list[str]:
    """The component types `resource` sits under, outermost first (read from its URN)."""
    parts = resource.urn.split("::")
    return parts[2].split("$")[:-1] if len(parts) >= 4 else []


def owned_by(resource: Registered, component_type: str) -> bool:
    """Whether `resource` is a child (at any depth) of a component of `component_type`."""
    return component_type in owner_types(resource)


def _redact_fields(document: Mapping[str, Any], secret: Iterable[str]) -> dict[str, Any]:
    names = set(secret)
    return {
        key: blank(item) if key in names and item is not None else redact(item)
        for key, item in document.items()
    }


def helm_values(resource: Registered, values: Any) -> Any:
    """A release's values as a render shows them (see the module docstring)."""
    inner = unwrap(values)
    if owned_by(resource, ONBOARDING_TYPE) and isinstance(inner, Mapping):
        return _redact_fields(inner, SECRET_VALUE_KEYS)
    return redact(values)


def _parsed(value: Any) -> Any:
    inner = unwrap(value)
    if isinstance(inner, str):
        try:
            return json.loads(inner)
        except ValueError:
            return None
    return inner


def vault_data(resource: Registered, value: Any) -> Any:
    """A Vault document's data as a render shows it (see the module docstring)."""
    data = _parsed(value)
    if not isinstance(data, Mapping):
        return REDACTED if data is None else blank(data)
    if owned_by(resource, ONBOARDING_TYPE):
        return _redact_fields(data, VAULT_SECRET_FIELDS)
    if owned_by(resource, PROJECT_TYPE):
        return {key: _outlined(item, public=True) for key, item in data.items()}
    return blank(data)


def _outlined(value: Any, *, public: bool) -> Any:
    """`value` with kubeconfigs outlined; other scalars shown (`public`) or blanked."""
    inner = unwrap(value)
    shown = outline_text(inner)
    if shown is not None:
        return shown
    if isinstance(inner, Mapping):
        return {str(key): _outlined(item, public=public) for key, item in inner.items()}
    if isinstance(inner, list | tuple):
        return [_outlined(item, public=public) for item in inner]
    if public and not is_secret(value):
        return value
    return None if inner is None else REDACTED


def secret_export(value: Any) -> Any:
    """A secret stack export: blanked, keys kept, a kubeconfig in it outlined."""
    return _outlined(value, public=False)


def config_secrets(config: Mapping[str, str]) -> set[str]:
    """Config values whose key names a secret (a plaintext apiSecret in a stack file)."""
    return {
        value
        for key, value in config.items()
        if SECRET_CONFIG_KEY.search(key.rsplit(":", 1)[-1]) and isinstance(value, str)
    }


def hidden_texts(resource: Registered) -> set[str]:
    """The texts the first line hides in `resource`'s file, so the scrub removes them too."""
    found: set[str] = set()
    if resource.type == HELM_RELEASE and owned_by(resource, ONBOARDING_TYPE):
        values = unwrap(resource.inputs.get("values"))
        if isinstance(values, Mapping):
            for key in SECRET_VALUE_KEYS:
                found |= secret_texts(unwrap(values.get(key)), marked=True)
    if resource.type.startswith(VAULT_PREFIX):
        for key in VAULT_DATA_KEYS:
            data = _parsed(resource.inputs.get(key))
            if not isinstance(data, Mapping):
                continue
            if owned_by(resource, ONBOARDING_TYPE):
                for field in VAULT_SECRET_FIELDS:
                    found |= secret_texts(unwrap(data.get(field)), marked=True)
            for item in data.values():
                found |= credential_texts(unwrap(item))
    return found


def collect_secrets(recording: Recording, config: Mapping[str, str] | None = None) -> set[str]:
    """Every secret text the run saw: marked values, secret outputs, exports, config, and
    the values the field-by-field redaction hides (`hidden_texts`)."""
    found = config_secrets(config or {})
    for resource in recording.resources:
        found |= secret_texts(resource.inputs) | secret_texts(resource.outputs)
        found |= hidden_texts(resource)
        for name in resource.additional_secret_outputs:
            if name in resource.outputs:
                found |= secret_texts(resource.outputs[name], marked=True)
    for key in recording.secret_exports:
        found |= secret_texts(recording.exports.get(key), marked=True)
        for text in _strings(recording.exports.get(key)):
            found |= credential_texts(text)
    return found


def _strings(value: Any) -> list[str]:
    value = unwrap(value)
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list | tuple):
        return [text for item in value for text in _strings(item)]
    return []
