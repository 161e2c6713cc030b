"""Every template of the library, one module per category."""

from __future__ import annotations

from components.policies.template import PolicyTemplate
from components.policies.templates import (
    best_practices,
    pod_security_baseline,
    pod_security_restricted,
)

TEMPLATES: tuple[PolicyTemplate, ...] = (
    *pod_security_baseline.TEMPLATES,
    *pod_security_restricted.TEMPLATES,
    *best_practices.TEMPLATES,
)
