"""What the spec schema expects at each YAML path, in words: the error messages' "allowed:"
text and the key suggestions come from here."""

from __future__ import annotations

import types
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import AfterValidator, BaseModel
from pydantic.fields import FieldInfo

from components.tenancy.models import (
    PlatformPolicy,
    PolicyRef,
    ProjectSpec,
    ServiceAccount,
    TenantSpec,
)
from components.tenancy.quantity import ALLOWED_FORM as QUANTITY_FORM
from components.tenancy.spec_base import (
    DNS1123_LABEL_RULE,
    LABEL_KEY_RULE,
    ROLE_TYPES,
    ResourceAmounts,
    check_dns_label,
)
from stacks.spec import PlatformSpec

_TENANCY_ALLOWED: dict[tuple[type[BaseModel], str], str] = {
    (ResourceAmounts, "cpu"): QUANTITY_FORM,
    (ResourceAmounts, "memory"): QUANTITY_FORM,
    (ServiceAccount, "role"): f"one of {', '.join(ROLE_TYPES)}",
    (ServiceAccount, "token_duration"): "a duration such as 24h, 168h or 8760h",
    (PolicyRef, "name"): "the name of a policy in the library (components.policies.catalog())",
    (PolicyRef, "parameters"): "a mapping of the policy's parameters",
    (PlatformPolicy, "image_allowlist"): "a list of registry hosts such as docker.io or ghcr.io",
    (PlatformPolicy, "egress_baseline"): "a list of CIDR networks such as 10.0.0.0/8",
    (TenantSpec, "image_allowlist"): "a list of registry hosts within the platform allowlist",
    (TenantSpec, "labels"): f"a mapping of label key ({LABEL_KEY_RULE}) to value",
    (ProjectSpec, "label_restrictions"): (
        "a mapping of label key to the list of label values pods may choose from"
    ),
}


@dataclass(frozen=True)
class Slot:
    """What the schema expects at one path: the type, and the field it belongs to if any."""

    annotation: Any
    field: FieldInfo | None = None
    owner: type[BaseModel] | None = None
    name: str | None = None


def bare_type(annotation: Any) -> Any:
    """The type without Annotated metadata and without `| None`."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def is_model(annotation: Any) -> bool:
    """Whether an annotation is a pydantic model class."""
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def model_field(model: type[BaseModel], key: str) -> tuple[str, FieldInfo] | None:
    """The (name, field) a YAML key (the camelCase alias) selects in `model`."""
    for name, field in model.model_fields.items():
        if key == (field.alias or name):
            return name, field
    return None


def allowed_keys(model: type[BaseModel]) -> list[str]:
    """The YAML keys a section accepts, in declaration order."""
    return [field.alias or name for name, field in model.model_fields.items()]


def slot_at(loc: Sequence[str | int], root: type[BaseModel] = PlatformSpec) -> Slot | None:
    """The schema slot at a path such as ('tenants', 0, 'projects'); None if there is none."""
    slot = Slot(root)
    for segment in loc:
        annotation = bare_type(slot.annotation)
        origin = get_origin(annotation)
        if is_model(annotation):
            if not isinstance(segment, str):
                return None
            found = model_field(annotation, segment)
            if found is None:
                return None
            name, field = found
            slot = Slot(field.annotation, field, annotation, name)
        elif origin is list and isinstance(segment, int):
            slot = Slot(get_args(annotation)[0])
        elif origin is dict and isinstance(segment, str):
            slot = Slot(get_args(annotation)[1])
        else:
            return None
    return slot


def _constraints(metadata: Iterable[Any]) -> str:
    words: list[str] = []
    for item in metadata:
        if isinstance(item, annotated_types.Ge):
            words.append(f"at least {item.ge}")
        elif isinstance(item, annotated_types.Le):
            words.append(f"at most {item.le}")
        elif isinstance(item, annotated_types.MinLen):
            words.append(f"at least {item.min_length} characters")
        elif isinstance(item, annotated_types.MaxLen):
            words.append(f"at most {item.max_length} characters")
    return f" ({', '.join(words)})" if words else ""


def _is_dns_validator(item: Any) -> bool:
    return isinstance(item, AfterValidator) and item.func is check_dns_label


def describe_type(annotation: Any) -> str:
    """A short phrase saying what a value of this type looks like in YAML."""
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *metadata = get_args(annotation)
        if any(_is_dns_validator(item) for item in metadata):
            return DNS1123_LABEL_RULE
        return describe_type(base) + _constraints(metadata)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return " or ".join(describe_type(a) for a in args)
    if origin is Literal:
        return "one of " + ", ".join(str(a) for a in get_args(annotation))
    if origin is list:
        return f"a list, each item {describe_type(get_args(annotation)[0])}"
    if origin is dict:
        key, value = get_args(annotation)
        return f"a mapping of {describe_type(key)} to {describe_type(value)}"
    if is_model(annotation):
        return "a mapping with keys " + ", ".join(allowed_keys(annotation))
    simple: dict[Any, str] = {
        bool: "true or false",
        int: "a whole number",
        float: "a number",
        str: "text",
        Any: "any value",
    }
    return simple.get(annotation, getattr(annotation, "__name__", str(annotation)))


def describe_slot(slot: Slot) -> str:
    """What is allowed at a slot: the field's own description, else one derived from its type."""
    field = slot.field
    if field is not None:
        if field.description:
            return field.description
        if slot.owner is not None and slot.name is not None:
            known = _TENANCY_ALLOWED.get((slot.owner, slot.name))
            if known:
                return known
        if any(_is_dns_validator(item) for item in field.metadata):
            return DNS1123_LABEL_RULE
        return describe_type(field.annotation) + _constraints(field.metadata)
    return describe_type(slot.annotation)
