"""The catalogue: look templates up by name and validate their parameters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from components.policies.parameters import (
    PolicyParameterError,
    TemplateParameters,
    parse_parameters,
)
from components.policies.template import PolicyTemplate
from components.policies.templates import TEMPLATES

_BY_NAME: dict[str, PolicyTemplate] = {template.name: template for template in TEMPLATES}
if len(_BY_NAME) != len(TEMPLATES):
    raise RuntimeError("two policy templates share a name")


def catalog() -> list[PolicyTemplate]:
    """Every template in the library, grouped by category."""
    return list(TEMPLATES)


def get_template(name: str) -> PolicyTemplate:
    """The template called `name`, or PolicyParameterError listing the known names."""
    template = _BY_NAME.get(name) if isinstance(name, str) else None
    if template is None:
        raise PolicyParameterError.unknown_template(str(name), sorted(_BY_NAME))
    return template


def validate_parameters(name: str, parameters: Mapping[str, Any] | None) -> TemplateParameters:
    """The parameters of template `name` parsed into its model, or PolicyParameterError.

    The error names the template and each parameter at fault (unknown template, missing,
    extra, wrong type, empty list, invalid item) and says what is allowed.
    """
    template = get_template(name)
    return parse_parameters(template.name, template.parameters, parameters)
