"""components.Kyverno: Kyverno from its Helm chart, plus the cluster-wide baseline policies.

The policies depend on the Release, so `pulumi destroy` removes them before Kyverno
(whose pre-delete hook then removes its webhooks); nothing is left blocking admission.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic import BaseModel, Field

from components.kyverno.policy_resources import policy_resources
from components.kyverno.values import (
    CHART_NAME,
    CHART_REPOSITORY,
    DEFAULT_CHART_VERSION,
    KyvernoValuesError,
    kyverno_values,
)
from components.managed_by import MANAGED_BY, MANAGED_BY_LABEL
from components.policies import validate_parameters
from components.targets import ARGS_CONFIG
from components.tenancy.models import PlatformPolicy, PolicyRef
from components.tenancy.spec_base import (
    DnsLabel,
    FailureAction,
    PolicyApi,
)
from components.tenancy.validation import Problem, TenancyValidationError, policy_problems

TYPE_TOKEN = "tenantguard:index:Kyverno"


class KyvernoArgs(BaseModel):
    """What the Kyverno component installs; every field has a safe default."""

    model_config = ARGS_CONFIG

    namespace: DnsLabel = "kyverno"
    release_name: DnsLabel = "kyverno"
    chart_version: str = Field(default=DEFAULT_CHART_VERSION, min_length=1)
    chart_repository: str = CHART_REPOSITORY
    high_availability: bool = False
    excluded_namespaces: list[DnsLabel] = Field(default_factory=list)
    """Namespaces kept out of Kyverno besides kube-system and its own (e.g. illumio-system)."""
    policies: list[PolicyRef] = Field(default_factory=list)
    """Cluster-wide baseline policies from the library."""
    policy_api: PolicyApi = "validatingpolicy"
    failure_action: FailureAction = "Audit"
    values: dict[str, Any] = Field(default_factory=dict)
    """Extra chart values, deep-merged over the computed ones."""
    timeout_seconds: int = Field(default=600, gt=0)


def chart_values(args: KyvernoArgs) -> dict[str, Any]:
    """The chart values for `args`; raises KyvernoValuesError when `values` break an exclusion."""
    return kyverno_values(
        namespace=args.namespace,
        high_availability=args.high_availability,
        extra_excluded_namespaces=args.excluded_namespaces,
        user_values=args.values,
    )


def kyverno_problems(args: KyvernoArgs) -> list[Problem]:
    """Every problem with `args`: the baseline policies (by the same rule as a project's
    policies, with no platform allowlist) and the chart values."""
    problems = policy_problems(
        args.policies,
        PlatformPolicy(),
        path="kyverno.policies",
        subject=lambda name: f"policy {name!r}",
        check_policy=validate_parameters,
    )
    try:
        chart_values(args)
    except KyvernoValuesError as exc:
        problems.append(Problem("kyverno.values", str(exc)))
    return problems


class Kyverno(pulumi.ComponentResource):
    """Kyverno's namespace, its Helm release and the chosen cluster-wide policies.

    Outputs: `chart_version`, `app_version`, `status` (from the Release's status),
    `namespace`; `release` is the Release, for other resources to depend on.
    """

    release: k8s.helm.v3.Release
    chart_version: pulumi.Output[str | None]
    app_version: pulumi.Output[str | None]
    status: pulumi.Output[str | None]
    namespace: pulumi.Output[str]

    def __init__(
        self, name: str, args: KyvernoArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        problems = kyverno_problems(args)
        if problems:
            raise TenancyValidationError(problems)
        super().__init__(TYPE_TOKEN, name, None, opts)

        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={"name": args.namespace, "labels": {MANAGED_BY_LABEL: MANAGED_BY}},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.release = k8s.helm.v3.Release(
            f"{name}-release",
            name=args.release_name,
            chart=CHART_NAME,
            version=args.chart_version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=args.chart_repository),
            namespace=namespace.metadata["name"],
            values=chart_values(args),
            atomic=True,
            cleanup_on_fail=True,
            timeout=args.timeout_seconds,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace]),
        )
        self.policies = policy_resources(
            name,
            args.policies,
            parent=self,
            depends_on=[self.release],
            api=args.policy_api,
            failure_action=args.failure_action,
        )

        status = self.release.status
        self.namespace = namespace.metadata["name"]
        self.chart_version = status.apply(lambda s: s.version if s else None)
        self.app_version = status.apply(lambda s: s.app_version if s else None)
        self.status = status.apply(lambda s: s.status if s else None)
        self.register_outputs(
            {
                "namespace": self.namespace,
                "chart_version": self.chart_version,
                "app_version": self.app_version,
                "status": self.status,
                "policies": [p.metadata["name"] for p in self.policies],
            }
        )
