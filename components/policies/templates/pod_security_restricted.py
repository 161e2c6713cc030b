"""Pod Security Standards, Restricted level: no privilege escalation, no running as root.

Each checks containers, initContainers and ephemeralContainers, as Kyverno's
`pod-security` policies of the same names do.
"""

from __future__ import annotations

from components.policies.expressions import field_is
from components.policies.parameters import TemplateParameters
from components.policies.template import PolicyBody, PolicyTemplate, Validation, Variable
from components.policies.templates.pod_security_baseline import ALL_CONTAINERS_VARIABLE

CATEGORY = "Pod Security Standards (Restricted)"


def _privilege_escalation(_: TemplateParameters) -> PolicyBody:
    return PolicyBody(
        variables=(ALL_CONTAINERS_VARIABLE,),
        validations=(
            Validation(
                "variables.allContainers.all(c, "
                + field_is("c.securityContext.allowPrivilegeEscalation", "false")
                + ")",
                "Privilege escalation is disallowed: every container, init container and "
                "ephemeral container must set securityContext.allowPrivilegeEscalation to false.",
            ),
        ),
    )


def _run_as_nonroot(_: TemplateParameters) -> PolicyBody:
    own = "c.securityContext.runAsNonRoot"
    return PolicyBody(
        variables=(
            ALL_CONTAINERS_VARIABLE,
            Variable(
                "podRunAsNonRoot", field_is("object.spec.securityContext.runAsNonRoot", "true")
            ),
        ),
        validations=(
            Validation(
                f"variables.allContainers.all(c, has(c.securityContext) && has({own}) "
                f"? {own} == true : variables.podRunAsNonRoot)",
                "Running as root is disallowed: set spec.securityContext.runAsNonRoot to true "
                "(and let no container set it to false), or set securityContext.runAsNonRoot to "
                "true in every container, init container and ephemeral container.",
            ),
        ),
    )


TEMPLATES: tuple[PolicyTemplate, ...] = (
    PolicyTemplate(
        name="disallow-privilege-escalation",
        title="Disallow Privilege Escalation",
        category=CATEGORY,
        description=(
            "Set-user-ID and set-group-ID binaries let a process gain privileges. Requires every "
            "container, init container and ephemeral container to set "
            "securityContext.allowPrivilegeEscalation to false."
        ),
        severity="medium",
        build=_privilege_escalation,
    ),
    PolicyTemplate(
        name="require-run-as-nonroot",
        title="Require runAsNonRoot",
        category=CATEGORY,
        description=(
            "Containers must not run as root. Requires spec.securityContext.runAsNonRoot to be "
            "true with no container overriding it to false, or every container, init container "
            "and ephemeral container to set securityContext.runAsNonRoot to true."
        ),
        severity="medium",
        build=_run_as_nonroot,
    ),
)
