"""The PolicyTemplate model: what a template is and the CEL body it builds from its parameters.

A template is API-neutral: it yields variables and validations (CEL text plus message) for
one target resource. `components.policies.render` wraps that body in a ValidatingPolicy or
a legacy ClusterPolicy, so both APIs evaluate the very same expressions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from components.policies.parameters import NoParameters, TemplateParameters
from components.policies.samples import TemplateSamples, load_samples

Severity = Literal["low", "medium", "high"]


@dataclass(frozen=True)
class Variable:
    """A named CEL expression, read by validations as `variables.<name>`."""

    name: str
    expression: str


@dataclass(frozen=True)
class Validation:
    """A CEL expression that must be true, and the message shown when it is not."""

    expression: str
    message: str


@dataclass(frozen=True)
class PolicyBody:
    """The CEL content of one policy: variables (evaluated in order) and validations."""

    validations: tuple[Validation, ...]
    variables: tuple[Variable, ...] = ()


@dataclass(frozen=True)
class Target:
    """The core/v1 resource a policy validates (pods get Kyverno's pod-controller autogen)."""

    resource: str
    kind: str

    @property
    def autogen(self) -> bool:
        """Whether Kyverno generates Deployment/StatefulSet/.../CronJob rules from this one."""
        return self.resource == "pods"


PODS = Target(resource="pods", kind="Pod")
SERVICES = Target(resource="services", kind="Service")


@dataclass(frozen=True)
class PolicyTemplate:
    """One entry of the library: its identity, its parameters model and its body builder."""

    name: str
    title: str
    category: str
    description: str
    severity: Severity
    build: Callable[[Any], PolicyBody]
    parameters: type[TemplateParameters] = NoParameters
    target: Target = PODS

    def body(self, parameters: TemplateParameters) -> PolicyBody:
        """The CEL body for already-validated `parameters` (an instance of `self.parameters`)."""
        if not isinstance(parameters, self.parameters):
            raise TypeError(
                f"policy template {self.name!r} takes {self.parameters.__name__}, "
                f"not {type(parameters).__name__}"
            )
        return self.build(parameters)

    def samples(self) -> TemplateSamples:
        """The good and bad sample resources shipped with this template."""
        return load_samples(self.name)
