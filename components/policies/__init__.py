"""The Kyverno policy library: parameterised templates rendered as Kyverno policies.

`catalog()` lists the templates, `validate_parameters(name, parameters)` checks a
template's parameters, and `render(name, parameters, ...)` returns one manifest: a
ValidatingPolicy (CEL, the default) or a legacy ClusterPolicy carrying the same CEL.
`render_set(...)` (same arguments) returns every manifest the template needs: the main one
and, for a ValidatingPolicy that inspects containers, its `<name>-ephemeral` companion for
`kubectl debug` (see `components.policies.policy_set`); register policies with it.
Pure Python: no Pulumi resources are registered here.
"""

from __future__ import annotations

from components.policies.parameters import PolicyParameterError
from components.policies.policy_set import render_set
from components.policies.registry import catalog, get_template, validate_parameters
from components.policies.render import render
from components.policies.template import PolicyTemplate

__all__ = [
    "PolicyParameterError",
    "PolicyTemplate",
    "catalog",
    "get_template",
    "render",
    "render_set",
    "validate_parameters",
]
