"""Registers library policies as Kyverno custom resources (for Kyverno and Project)."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_kubernetes as k8s

from components.policies import render_set
from components.tenancy.models import PolicyRef
from components.tenancy.spec_base import FailureAction, PolicyApi


def policy_resources(
    prefix: str,
    refs: Sequence[PolicyRef],
    *,
    parent: pulumi.Resource,
    depends_on: Sequence[pulumi.Resource],
    api: PolicyApi,
    failure_action: FailureAction,
    namespace: str | None = None,
) -> list[k8s.apiextensions.CustomResource]:
    """The CustomResources of each policy, named `<prefix>-policy-<template>`, after `depends_on`.

    `namespace=None` gives the cluster-wide kinds; a namespace gives the namespaced ones.
    A ValidatingPolicy that inspects containers comes with its `kubectl debug` companion
    (`<prefix>-policy-<template>-ephemeral`, see `components.policies.render_set`).
    """
    resources: list[k8s.apiextensions.CustomResource] = []
    for ref in refs:
        manifests = render_set(
            ref.name,
            ref.parameters,
            namespace=namespace,
            api=api,
            failure_action=failure_action,
        )
        for index, manifest in enumerate(manifests):
            suffix = ref.name if index == 0 else manifest["metadata"]["name"]
            resources.append(
                k8s.apiextensions.CustomResource(
                    f"{prefix}-policy-{suffix}",
                    api_version=manifest["apiVersion"],
                    kind=manifest["kind"],
                    metadata=manifest["metadata"],
                    spec=manifest.get("spec"),
                    opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on)),
                )
            )
    return resources
