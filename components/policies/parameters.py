"""Typed template parameters: the pydantic building blocks and readable errors for bad input.

A template's parameters are a frozen pydantic model that forbids unknown keys. Lists take
a list or tuple (never a bare string or an unordered set, so rendering is deterministic),
drop repeated items and keep their order. Pydantic's errors are translated into one
`PolicyParameterError` that names the template and each parameter and says what is allowed.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationError

from components.policies.images import check_registry_prefix


class PolicyParameterError(ValueError):
    """A policy template name or its parameters are not acceptable.

    `template` is the template name, `parameter` the first parameter at fault (None when
    the template itself is unknown or the parameters are not a mapping), `problems` every
    problem found, one sentence each.
    """

    def __init__(
        self,
        template: str,
        problems: list[str],
        parameter: str | None = None,
        *,
        message: str | None = None,
    ) -> None:
        self.template = template
        self.parameter = parameter
        self.problems = list(problems)
        super().__init__(message or f"policy template {template!r}: " + "; ".join(self.problems))

    @classmethod
    def unknown_template(cls, template: str, known: list[str]) -> PolicyParameterError:
        """The error for a template name the library does not have, with the closest name."""
        listed = f"known templates: {', '.join(known)}"
        close = difflib.get_close_matches(template, known, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return cls(
            template,
            [f"unknown policy template{hint}; {listed}"],
            message=f"unknown policy template {template!r}{hint}; {listed}",
        )


class TemplateParameters(BaseModel):
    """Base of every template's parameter model: unknown keys are errors, values frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


class NoParameters(TemplateParameters):
    """For templates that take no parameters."""


def _describe(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def _sequence(what: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if not isinstance(value, list | tuple):
            raise ValueError(f"must be a list of {what}, got {_describe(value)}")
        for item in value:
            if not isinstance(item, str):
                raise ValueError(f"must be a list of {what}; item {_describe(item)} is not text")
        return value

    return check


def _each(check: Callable[[str], str]) -> Callable[[tuple[str, ...]], tuple[str, ...]]:
    """Apply `check` to every item, report every bad one by index, drop repeats."""

    def apply(values: tuple[str, ...]) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        problems: list[str] = []
        for index, value in enumerate(values):
            try:
                seen.setdefault(check(value), None)
            except ValueError as exc:
                problems.append(f"item {index}: {exc}")
        if problems:
            raise ValueError("; ".join(problems))
        return tuple(seen)

    return apply


_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_KEY_RULE = (
    "a Kubernetes label key: an optional DNS subdomain prefix and '/', then a name of at most "
    "63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit "
    "(such as team or app.kubernetes.io/name)"
)


def check_label_key(value: str) -> str:
    """`value` if it is a valid Kubernetes label key, else ValueError naming the rule."""
    prefix, _, name = value.rpartition("/")
    if not _LABEL_NAME.match(name) or (
        "/" in value and (not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix))
    ):
        raise ValueError(f"{value!r} is not {LABEL_KEY_RULE}")
    return value


RegistryPrefixes = Annotated[
    tuple[str, ...],
    BeforeValidator(_sequence("registry prefixes such as ['docker.io', 'ghcr.io/acme']")),
    AfterValidator(_each(check_registry_prefix)),
]
"""Registry prefixes (see `components.policies.images`), normalised, without repeats."""

LabelKeys = Annotated[
    tuple[str, ...],
    BeforeValidator(_sequence("label keys such as ['app.kubernetes.io/name', 'team']")),
    AfterValidator(_each(check_label_key)),
]
"""Kubernetes label keys, without repeats."""


def _field_rule(model: type[TemplateParameters], name: str) -> str:
    field = model.model_fields.get(name)
    return field.description if field is not None and field.description else ""


def _message(model: type[TemplateParameters], error: Mapping[str, Any]) -> tuple[str, str]:
    loc = [str(part) for part in error["loc"]]
    name = loc[0] if loc else ""
    where = name + "".join(f"[{part}]" for part in loc[1:])
    kind = error["type"]
    if kind == "missing":
        return name, f"parameter {name!r} is missing; it takes {_field_rule(model, name)}"
    if kind == "extra_forbidden":
        allowed = ", ".join(sorted(model.model_fields)) or "none (this template takes none)"
        return name, f"unknown parameter {name!r}; allowed parameters: {allowed}"
    if kind == "too_short":
        return name, (
            f"parameter {name!r} needs at least one item; it takes {_field_rule(model, name)}"
        )
    if kind == "value_error":
        return name, f"parameter {where!r}: {error['ctx']['error']}"
    return name, f"parameter {where!r}: {error['msg']}; it takes {_field_rule(model, name)}"


def parse_parameters(
    template: str, model: type[TemplateParameters], parameters: Mapping[str, Any] | None
) -> TemplateParameters:
    """`parameters` validated into `model`, or PolicyParameterError naming each problem."""
    if parameters is None:
        parameters = {}
    if not isinstance(parameters, Mapping):
        found = _describe(parameters)
        raise PolicyParameterError(
            template, [f"parameters must be a mapping of parameter name to value, not {found}"]
        )
    try:
        return model.model_validate(dict(parameters))
    except ValidationError as exc:
        found = [_message(model, error) for error in exc.errors()]
        raise PolicyParameterError(
            template, [text for _, text in found], parameter=found[0][0]
        ) from None
