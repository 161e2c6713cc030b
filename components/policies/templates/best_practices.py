"""Best practices: pinned images from allowed registries, labels, resource requests and
limits, dropped capabilities, no NodePort Services.

Image checks cover containers, initContainers and ephemeralContainers. Resource checks
cover containers and initContainers only: Kubernetes rejects resources on ephemeral
containers.
"""

from __future__ import annotations

from pydantic import Field

from components.policies.expressions import CONTAINERS_AND_INIT, cel_string
from components.policies.images import (
    REGISTRY_PREFIX_RULE,
    from_registries,
    has_digest,
    has_tag,
)
from components.policies.parameters import (
    LABEL_KEY_RULE,
    LabelKeys,
    RegistryPrefixes,
    TemplateParameters,
)
from components.policies.template import (
    SERVICES,
    PolicyBody,
    PolicyTemplate,
    Validation,
    Variable,
)
from components.policies.templates.pod_security_baseline import ALL_CONTAINERS_VARIABLE

CATEGORY = "Best Practices"


class RegistryParameters(TemplateParameters):
    """Parameters of restrict-image-registries (prefixes normalised, see `images`)."""

    registries: RegistryPrefixes = Field(
        min_length=1,
        description=(
            "a non-empty list of registry prefixes, each "
            + REGISTRY_PREFIX_RULE
            + "; an image is allowed if its registry and path lie within one of them"
        ),
    )


class LabelParameters(TemplateParameters):
    """Parameters of require-labels."""

    labels: LabelKeys = Field(
        min_length=1,
        description="a non-empty list of label keys, each " + LABEL_KEY_RULE,
    )


def _latest_tag(_: TemplateParameters) -> PolicyBody:
    return PolicyBody(
        variables=(ALL_CONTAINERS_VARIABLE,),
        validations=(
            Validation(
                f"variables.allContainers.all(c, {has_digest('c.image')} || {has_tag('c.image')})",
                "An image tag or digest is required: every container, init container and "
                "ephemeral container image must name a tag (such as nginx:1.25) or a digest.",
            ),
            Validation(
                f"variables.allContainers.all(c, {has_digest('c.image')} || "
                "!c.image.endsWith(':latest'))",
                "The mutable tag 'latest' is disallowed: pin a version tag or a digest.",
            ),
        ),
    )


def _registries(parameters: RegistryParameters) -> PolicyBody:
    registries = list(parameters.registries)
    return PolicyBody(
        variables=(
            ALL_CONTAINERS_VARIABLE,
            Variable("images", "variables.allContainers.map(c, c.image)"),
        ),
        validations=(
            Validation(
                f"variables.images.all(ref, {from_registries('ref', registries)})",
                "Images must come from an allowed registry: " + ", ".join(registries) + ". "
                "An image without a registry host is a Docker Hub (docker.io) image, and a "
                "one-part Docker Hub name (nginx, docker.io/nginx) is an official image under "
                "docker.io/library.",
            ),
        ),
    )


def _labels(parameters: LabelParameters) -> PolicyBody:
    labels = "object.metadata.labels"
    return PolicyBody(
        validations=tuple(
            Validation(
                f"has({labels}) && {key} in {labels} && {labels}[{key}] != ''",
                f"The label {label!r} is required, with a non-empty value.",
            )
            for label, key in ((label, cel_string(label)) for label in parameters.labels)
        ),
    )


def _requests_limits(_: TemplateParameters) -> PolicyBody:
    resources = "c.resources"
    return PolicyBody(
        variables=(Variable("resourceContainers", CONTAINERS_AND_INIT),),
        validations=(
            Validation(
                f"variables.resourceContainers.all(c, has({resources}) && "
                f"has({resources}.requests) && has({resources}.requests.cpu) && "
                f"has({resources}.requests.memory) && "
                f"has({resources}.limits) && has({resources}.limits.memory))",
                "CPU and memory requests and a memory limit are required: every container and "
                "init container must set resources.requests.cpu, resources.requests.memory and "
                "resources.limits.memory.",
            ),
        ),
    )


def _drop_all(_: TemplateParameters) -> PolicyBody:
    drop = "c.securityContext.capabilities.drop"
    return PolicyBody(
        variables=(ALL_CONTAINERS_VARIABLE,),
        validations=(
            Validation(
                "variables.allContainers.all(c, has(c.securityContext) && "
                f"has(c.securityContext.capabilities) && has({drop}) && 'ALL' in {drop})",
                "Every container, init container and ephemeral container must drop all "
                "capabilities: securityContext.capabilities.drop must contain ALL.",
            ),
        ),
    )


def _nodeport(_: TemplateParameters) -> PolicyBody:
    return PolicyBody(
        validations=(
            Validation(
                "!has(object.spec.type) || object.spec.type != 'NodePort'",
                "Services of type NodePort are disallowed: a NodePort opens a port on every node "
                "that NetworkPolicies cannot restrict. Use ClusterIP or LoadBalancer.",
            ),
        ),
    )


TEMPLATES: tuple[PolicyTemplate, ...] = (
    PolicyTemplate(
        name="disallow-latest-tag",
        title="Disallow Latest Tag",
        category=CATEGORY,
        description=(
            "Mutable tags make deployments unrepeatable. Requires every container, init "
            "container and ephemeral container image to name a tag other than 'latest', or to "
            "be pinned by digest (@sha256:...). A registry port (localhost:5000/app) is not a tag."
        ),
        severity="medium",
        build=_latest_tag,
    ),
    PolicyTemplate(
        name="restrict-image-registries",
        title="Restrict Image Registries",
        category=CATEGORY,
        description=(
            "Images from unknown registries may be malicious or unpatched. Requires every "
            "container, init container and ephemeral container image to come from one of the "
            "listed registry prefixes. Docker Hub spellings are normalised as Docker does: "
            "nginx, docker.io/nginx and index.docker.io/library/nginx are all "
            "docker.io/library/nginx."
        ),
        severity="high",
        build=_registries,
        parameters=RegistryParameters,
    ),
    PolicyTemplate(
        name="require-labels",
        title="Require Labels",
        category=CATEGORY,
        description=(
            "Labels identify a workload's owner and purpose to people and tools. Requires every "
            "listed label key on the pod (or on the pod template of a controller) with a "
            "non-empty value."
        ),
        severity="medium",
        build=_labels,
        parameters=LabelParameters,
    ),
    PolicyTemplate(
        name="require-requests-limits",
        title="Require Resource Requests and Limits",
        category=CATEGORY,
        description=(
            "Pods without requests and limits starve their neighbours. Requires every container "
            "and init container to set resources.requests.cpu, resources.requests.memory and "
            "resources.limits.memory (a CPU limit is not required; ephemeral containers cannot "
            "declare resources and are exempt)."
        ),
        severity="medium",
        build=_requests_limits,
    ),
    PolicyTemplate(
        name="require-drop-all",
        title="Require Drop All Capabilities",
        category=CATEGORY,
        description=(
            "Containers should drop every Linux capability and add back only what they need. "
            "Requires every container, init container and ephemeral container to list ALL in "
            "securityContext.capabilities.drop."
        ),
        severity="medium",
        build=_drop_all,
    ),
    PolicyTemplate(
        name="disallow-nodeport-services",
        title="Disallow NodePort Services",
        category=CATEGORY,
        description=(
            "A NodePort Service listens on every node, beyond the reach of NetworkPolicies. "
            "Denies Services of type NodePort."
        ),
        severity="medium",
        build=_nodeport,
        target=SERVICES,
    ),
)
