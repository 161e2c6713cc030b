"""`tenantguard policies list|show`: browse the Kyverno policy library and render one policy.

`--param key=value` values are read by the parameter model's field types: list fields
take `a,b,c`, a YAML/JSON flow list `[a, b]` or the key repeated; text fields keep the
text as typed; other fields read YAML scalars (`true`, `3`, `1.5`). Bad parameters are
reported with the library's own message.
"""

from __future__ import annotations

import collections.abc
import re
import sys
import types
from collections.abc import Sequence
from typing import Any, Literal, Union, get_args, get_origin

import yaml
from pydantic.fields import FieldInfo

from components.policies import PolicyTemplate, catalog, get_template, render
from tenantguard.output import emit, format_table, to_json, to_yaml

_SEQUENCE_ORIGINS = (
    list,
    tuple,
    set,
    frozenset,
    collections.abc.Sequence,
    collections.abc.Set,
)
_FIRST_SENTENCE = re.compile(r"^(.+?[.!?])(\s|$)")
SUMMARY_WIDTH = 90


class UsageError(ValueError):
    """A command line the user has to fix (exit status 2)."""


def _bare(annotation: Any) -> Any:
    """`annotation` without Optional/None and Annotated wrappers."""
    origin = get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        options = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(options) == 1:
            return _bare(options[0])
    if hasattr(annotation, "__metadata__"):
        return _bare(annotation.__origin__)
    return annotation


def is_list_field(info: FieldInfo | None) -> bool:
    """Whether a parameter field takes several values."""
    if info is None:
        return False
    annotation = _bare(info.annotation)
    return annotation in _SEQUENCE_ORIGINS or get_origin(annotation) in _SEQUENCE_ORIGINS


def _is_text_field(info: FieldInfo | None) -> bool:
    if info is None:
        return False
    annotation = _bare(info.annotation)
    if annotation is str:
        return True
    return get_origin(annotation) is Literal and all(
        isinstance(arg, str) for arg in get_args(annotation)
    )


def _item_is_text(info: FieldInfo) -> bool:
    args = [arg for arg in get_args(_bare(info.annotation)) if arg is not Ellipsis]
    return not args or all(_bare(arg) is str for arg in args)


def _scalar(text: str) -> Any:
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return value if isinstance(value, str | int | float | bool) or value is None else text


def _list_value(text: str, info: FieldInfo) -> list[Any]:
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            parsed = yaml.safe_load(stripped)
        except yaml.YAMLError as exc:
            raise UsageError(f"--param value {text!r} is not a valid list: {exc}") from None
        if not isinstance(parsed, list):
            raise UsageError(f"--param value {text!r} is not a list such as [a, b]")
        return parsed
    items = [item.strip() for item in stripped.split(",") if item.strip()]
    return items if _item_is_text(info) else [_scalar(item) for item in items]


def parse_params(template: PolicyTemplate, pairs: Sequence[str]) -> dict[str, Any]:
    """`key=value` strings as the template's parameter mapping, typed by its model's fields.

    Raises UsageError for a pair without `=` or a non-list parameter given twice. Names
    the model does not know are passed through as text, so the library reports them.
    """
    fields = template.parameters.model_fields
    result: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"--param expects key=value, got {pair!r}")
        info = fields.get(key)
        if is_list_field(info):
            assert info is not None
            result.setdefault(key, []).extend(_list_value(text, info))
            continue
        if key in result:
            raise UsageError(f"--param {key} is given twice; it takes one value")
        result[key] = text if info is None or _is_text_field(info) else _scalar(text)
    return result


def _type_name(info: FieldInfo) -> str:
    annotation = _bare(info.annotation)
    if is_list_field(info):
        return "list of text" if _item_is_text(info) else "list"
    if get_origin(annotation) is Literal:
        return "one of " + ", ".join(str(arg) for arg in get_args(annotation))
    return getattr(annotation, "__name__", str(annotation))


def summary(description: str) -> str:
    """The first sentence of a description, shortened to SUMMARY_WIDTH characters."""
    text = " ".join(description.split())
    match = _FIRST_SENTENCE.match(text)
    first = match.group(1) if match else text
    return first if len(first) <= SUMMARY_WIDTH else first[: SUMMARY_WIDTH - 3].rstrip() + "..."


def describe(template: PolicyTemplate) -> dict[str, Any]:
    """A template as data for `--output json`."""
    return {
        "name": template.name,
        "title": template.title,
        "category": template.category,
        "severity": template.severity,
        "description": template.description,
        "subject": template.target.kind,
        "parameters": [
            {
                "name": name,
                "type": _type_name(info),
                "required": info.is_required(),
                "description": info.description or "",
            }
            for name, info in template.parameters.model_fields.items()
        ],
    }


def list_policies(output: str) -> int:
    """Print the catalogue as a table or JSON."""
    templates = sorted(catalog(), key=lambda t: (t.category, t.name))
    if output == "json":
        emit(to_json([describe(template) for template in templates]))
        return 0
    rows = [
        (
            template.name,
            template.category,
            ", ".join(template.parameters.model_fields) or "-",
            summary(template.description),
        )
        for template in templates
    ]
    emit(format_table(("NAME", "CATEGORY", "PARAMETERS", "DESCRIPTION"), rows))
    return 0


def show_policy(
    name: str,
    params: Sequence[str],
    *,
    api: str,
    namespace: str | None,
    failure_action: str,
    output: str,
) -> int:
    """Render one template with parameters and print the manifest; exit 1 with the reason."""
    try:
        template = get_template(name)
        parameters = parse_params(template, params)
        manifest = render(
            name, parameters, namespace=namespace, api=api, failure_action=failure_action
        )
    except UsageError:
        raise
    except ValueError as exc:  # PolicyParameterError and render()'s own checks
        print(f"error: {exc}", file=sys.stderr)
        return 1
    emit(to_json(manifest) if output == "json" else to_yaml(manifest))
    return 0
