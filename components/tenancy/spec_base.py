"""The spec's shared value types: DNS labels, Illumio label maps, resource amounts, and the
`SpecModel` base every spec section is built on (camelCase in YAML, frozen, no echo)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import annotated_types
from pydantic import AfterValidator, BaseModel, ConfigDict, field_validator
from pydantic.alias_generators import to_camel

from components.tenancy.quantity import parse_quantity
from providers.illumio.limits import (
    MAX_LABEL_KEY,
    MAX_LABEL_VALUE,
)

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_LABEL_RULE = (
    "a DNS-1123 label: at most 63 lowercase letters, digits and '-', "
    "starting and ending with a letter or digit"
)
GO_DURATION = re.compile(r"^([0-9]+(\.[0-9]+)?(h|m|s|ms))+$")

ROLE_TYPES: tuple[str, ...] = ("view", "edit", "admin", "cluster-admin", "custom")
PsaLevel = Literal["privileged", "baseline", "restricted"]
FailureAction = Literal["Audit", "Enforce"]
PolicyApi = Literal["validatingpolicy", "clusterpolicy"]


def check_dns_label(value: str) -> str:
    """Return `value` if it is a DNS-1123 label, else raise ValueError naming the rule."""
    if len(value) > 63 or not DNS1123_LABEL.match(value):
        raise ValueError(f"{value!r} is not {DNS1123_LABEL_RULE}")
    return value


DnsLabel = Annotated[str, AfterValidator(check_dns_label)]

MAX_DESCRIPTION = 4096
"""The longest description field (the PCE's label key and value limits are in
`providers.illumio.limits`)."""

LABEL_KEY_RULE = f"an Illumio label key of 1 to {MAX_LABEL_KEY} characters, such as env or loc"
LABEL_VALUE_RULE = (
    f"an Illumio label value of 1 to {MAX_LABEL_VALUE} characters, without control "
    "characters or leading or trailing spaces"
)


def _short(text: str) -> str:
    """`text` as a message may show it: at most 40 characters."""
    return repr(text if len(text) <= 40 else text[:37] + "...")


def check_label_key(key: str) -> None:
    """Raise ValueError unless `key` is a label key the PCE accepts."""
    if not 1 <= len(key) <= MAX_LABEL_KEY:
        raise ValueError(f"label key {_short(key)} is not {LABEL_KEY_RULE} ({len(key)} given)")


def check_label_value(key: str, label: str) -> None:
    """Raise ValueError unless `label` is a value the PCE accepts for label `key`."""
    if not label:
        raise ValueError(f"label {key!r} has an empty value; every label needs a value")
    if (
        len(label) > MAX_LABEL_VALUE
        or label != label.strip()
        or any(ord(c) < 32 or ord(c) == 127 for c in label)
    ):
        raise ValueError(
            f"label {key!r} value {_short(label)} ({len(label)} characters) is not "
            f"{LABEL_VALUE_RULE}"
        )


def check_label_map(value: dict[str, str]) -> dict[str, str]:
    """Return `value` if every key is an Illumio label key and every value one the PCE takes."""
    for key, label in value.items():
        check_label_key(key)
        check_label_value(key, label)
    return value


def check_label_choices(value: dict[str, list[str]]) -> dict[str, list[str]]:
    """Return `value` if every key is a label key and every listed value one the PCE takes."""
    for key, labels in value.items():
        check_label_key(key)
        for label in labels:
            check_label_value(key, label)
    return value


IllumioLabelMap = Annotated[dict[str, str], AfterValidator(check_label_map)]
"""Illumio labels as key -> value (the tenant's, the platform's)."""

IllumioLabelChoices = Annotated[dict[str, list[str]], AfterValidator(check_label_choices)]
"""Illumio label restrictions as key -> the values pods may choose from."""

Description = Annotated[str, annotated_types.MaxLen(MAX_DESCRIPTION)]
"""Free text that reaches the PCE or an annotation: at most MAX_DESCRIPTION characters."""


class SpecModel(BaseModel):
    """Base: unknown keys are errors, camelCase aliases for YAML, snake_case names in Python."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        hide_input_in_errors=True,  # a spec value may be a URL with credentials: never echo it
    )


class ResourceAmounts(SpecModel):
    """CPU and memory amounts as Kubernetes quantities."""

    cpu: str | None = None
    memory: str | None = None

    @field_validator("cpu", "memory", mode="before")
    @classmethod
    def _quantity(cls, value: Any) -> Any:
        if value is None:
            return value
        if isinstance(value, bool):
            raise ValueError("must be a quantity such as 500m, 2, 512Mi or 4Gi, not a boolean")
        parse_quantity(value)
        return str(value)
