"""Pod Security Standards, Baseline level: no privileged mode, host namespaces or hostPath,
no added capabilities beyond the Baseline set, no Unconfined seccomp.

Each checks containers, initContainers and ephemeralContainers, as Kyverno's
`pod-security` policies of the same names do.
"""

from __future__ import annotations

from components.policies.expressions import ALL_CONTAINERS, cel_string_list, field_is
from components.policies.parameters import TemplateParameters
from components.policies.template import PolicyBody, PolicyTemplate, Validation, Variable

CATEGORY = "Pod Security Standards (Baseline)"
ALL_CONTAINERS_VARIABLE = Variable("allContainers", ALL_CONTAINERS)

BASELINE_CAPABILITIES: tuple[str, ...] = (
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
)
ALLOWED_SECCOMP_TYPES: tuple[str, ...] = ("RuntimeDefault", "Localhost")


def _privileged(_: TemplateParameters) -> PolicyBody:
    return PolicyBody(
        variables=(ALL_CONTAINERS_VARIABLE,),
        validations=(
            Validation(
                "variables.allContainers.all(c, !"
                + field_is("c.securityContext.privileged", "true")
                + ")",
                "Privileged mode is disallowed: every container, init container and ephemeral "
                "container must leave securityContext.privileged unset or set it to false.",
            ),
        ),
    )


def _host_namespaces(_: TemplateParameters) -> PolicyBody:
    return PolicyBody(
        validations=tuple(
            Validation(
                "!" + field_is(f"object.spec.{field}", "true"),
                f"Sharing the host's {what} is disallowed: spec.{field} must be unset or false.",
            )
            for field, what in (
                ("hostNetwork", "network namespace"),
                ("hostIPC", "IPC namespace"),
                ("hostPID", "process ID namespace"),
            )
        ),
    )


def _host_path(_: TemplateParameters) -> PolicyBody:
    return PolicyBody(
        validations=(
            Validation(
                "!has(object.spec.volumes) || object.spec.volumes.all(v, !has(v.hostPath))",
                "hostPath volumes are disallowed: no entry of spec.volumes may set hostPath.",
            ),
        ),
    )


def _capabilities(_: TemplateParameters) -> PolicyBody:
    added = "c.securityContext.capabilities.add"
    return PolicyBody(
        variables=(ALL_CONTAINERS_VARIABLE,),
        validations=(
            Validation(
                "variables.allContainers.all(c, !(has(c.securityContext) && "
                f"has(c.securityContext.capabilities) && has({added})) || "
                f"{added}.all(cap, cap in {cel_string_list(BASELINE_CAPABILITIES)}))",
                "Adding capabilities beyond the Baseline set is disallowed; a container may add "
                "only " + ", ".join(BASELINE_CAPABILITIES) + ".",
            ),
        ),
    )


def _seccomp(_: TemplateParameters) -> PolicyBody:
    allowed = cel_string_list(ALLOWED_SECCOMP_TYPES)

    def unset_or_allowed(context: str) -> str:
        profile = f"{context}.securityContext.seccompProfile"
        return (
            f"(!(has({context}.securityContext) && has({profile}) && has({profile}.type)) "
            f"|| {profile}.type in {allowed})"
        )

    return PolicyBody(
        variables=(ALL_CONTAINERS_VARIABLE,),
        validations=(
            Validation(
                unset_or_allowed("object.spec")
                + " && variables.allContainers.all(c, "
                + unset_or_allowed("c")
                + ")",
                "The seccomp profile must be unset, RuntimeDefault or Localhost (never "
                "Unconfined) in spec.securityContext and in every container's securityContext.",
            ),
        ),
    )


TEMPLATES: tuple[PolicyTemplate, ...] = (
    PolicyTemplate(
        name="disallow-privileged-containers",
        title="Disallow Privileged Containers",
        category=CATEGORY,
        description=(
            "Privileged mode turns off most of the container's isolation from the node. Denies "
            "pods in which any container, init container or ephemeral container sets "
            "securityContext.privileged to true."
        ),
        severity="high",
        build=_privileged,
    ),
    PolicyTemplate(
        name="disallow-host-namespaces",
        title="Disallow Host Namespaces",
        category=CATEGORY,
        description=(
            "The host's network, IPC and process ID namespaces expose the node and its other "
            "pods. Denies pods that set spec.hostNetwork, spec.hostIPC or spec.hostPID to true."
        ),
        severity="high",
        build=_host_namespaces,
    ),
    PolicyTemplate(
        name="disallow-host-path",
        title="Disallow hostPath Volumes",
        category=CATEGORY,
        description=(
            "hostPath volumes give a pod the node's files, a common path to escalate privileges. "
            "Denies pods with any hostPath volume."
        ),
        severity="high",
        build=_host_path,
    ),
    PolicyTemplate(
        name="disallow-capabilities",
        title="Disallow Capabilities",
        category=CATEGORY,
        description=(
            "Linux capabilities beyond the Pod Security Standards Baseline set grant privileged "
            "operations. Denies pods in which any container adds a capability outside "
            + ", ".join(BASELINE_CAPABILITIES)
            + "."
        ),
        severity="medium",
        build=_capabilities,
    ),
    PolicyTemplate(
        name="restrict-seccomp",
        title="Restrict Seccomp",
        category=CATEGORY,
        description=(
            "An Unconfined seccomp profile lets a container make any system call. Denies pods "
            "whose pod-level or container-level seccompProfile.type is set to anything other "
            "than RuntimeDefault or Localhost."
        ),
        severity="medium",
        build=_seccomp,
    ),
)
