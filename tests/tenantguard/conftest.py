"""Fixtures for the CLI tests: the Pulumi program `render` runs, and a quiet PCE environment.

`platform_program` is `tenantguard.program.main` once that module exists; until then a
stand-in that reads the same config (`tenantguard:spec`, `illumio:pceUrl`) and registers
the same kinds of resources from the spec (PCE objects, namespaces, quotas, network
policies, Kyverno policies, token Secrets, Vault paths, Helm releases).
"""

from __future__ import annotations

import base64
import importlib.util
from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_vault as vault
import pytest

import stacks
from components.policies import render as render_policy
from providers.illumio import (
    ContainerCluster,
    ContainerWorkloadProfile,
    Label,
    PairingKey,
    PairingProfile,
)


def standin_program() -> None:
    """The platform of the spec named by `tenantguard:spec`, with the SDK's own resources."""
    spec = stacks.load(pulumi.Config("tenantguard").require("spec"))
    pce_url = pulumi.Config("illumio").require("pceUrl")
    prefix = spec.vault.path_prefix
    cluster = ContainerCluster(
        "cluster", name=spec.cluster.name, description=spec.cluster.description
    )
    pairing = PairingProfile("pairing", name=spec.cluster.pairing_profile_name)
    key = PairingKey("pairing-key", pairing_profile_href=pairing.href)
    vault.kv.SecretV2(
        "cluster-credentials",
        mount=spec.vault.mount,
        name=f"{prefix}/clusters/{spec.cluster.name}",
        data_json=pulumi.Output.secret(
            pulumi.Output.json_dumps(
                {
                    "cluster_token": cluster.container_cluster_token,
                    "pairing_key": key.activation_code,
                }
            )
        ),
    )
    k8s.helm.v3.Release(
        "kubelink",
        name="illumio",
        chart=spec.cluster.kubelink.chart,
        version=spec.cluster.kubelink.version,
        namespace="illumio-system",
        values=pulumi.Output.secret(
            {
                "pce_url": pce_url,
                "cluster_token": cluster.container_cluster_token,
                "cluster_code": key.activation_code,
                "networkType": spec.cluster.kubelink.network_type,
            }
        ),
    )
    release = k8s.helm.v3.Release(
        "kyverno",
        name="kyverno",
        chart="kyverno",
        version=spec.kyverno.chart_version,
        namespace=spec.kyverno.namespace,
        values={"admissionController": {"replicas": 1}},
    )
    for ref in spec.kyverno.baseline_policies:
        manifest = render_policy(ref.name, ref.parameters, api=spec.kyverno.policy_api)
        k8s.apiextensions.CustomResource(
            f"baseline-{ref.name}",
            api_version=manifest["apiVersion"],
            kind=manifest["kind"],
            metadata=manifest["metadata"],
            spec=manifest["spec"],
            opts=pulumi.ResourceOptions(depends_on=[release]),
        )
    labels: dict[tuple[str, str], Label] = {}

    def label(key_: str, value: str) -> pulumi.Output[str]:
        if (key_, value) not in labels:
            labels[key_, value] = Label(f"label-{key_}-{value}", key=key_, value=value)
        return labels[key_, value].href

    for tenant in spec.tenants:
        for project in tenant.projects:
            _project(spec, tenant, project, cluster.href, label)
    pulumi.export("cluster_href", cluster.href)
    pulumi.export("cluster_token", pulumi.Output.secret(cluster.container_cluster_token))


def _project(
    spec: Any, tenant: Any, project: Any, cluster_href: Any, label: Callable[[str, str], Any]
) -> None:
    namespace = stacks.spec.project_namespace(tenant, project)
    group = pulumi.ComponentResource("tenantguard:index:Project", f"{tenant.name}-{project.name}")
    child = pulumi.ResourceOptions(parent=group)
    k8s.core.v1.Namespace(f"{namespace}-namespace", metadata={"name": namespace}, opts=child)
    meta = {"namespace": namespace}
    k8s.core.v1.ResourceQuota(
        f"{namespace}-quota",
        metadata={**meta, "name": "tenantguard-quota"},
        spec={"hard": {"pods": "10", "requests.cpu": "2"}},
        opts=child,
    )
    k8s.networking.v1.NetworkPolicy(
        f"{namespace}-default-deny",
        metadata={**meta, "name": "default-deny"},
        spec={"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
        opts=child,
    )
    for ref in project.policies:
        manifest = render_policy(ref.name, ref.parameters, namespace=namespace)
        k8s.apiextensions.CustomResource(
            f"{namespace}-policy-{ref.name}",
            api_version=manifest["apiVersion"],
            kind=manifest["kind"],
            metadata=manifest["metadata"],
            spec=manifest["spec"],
            opts=child,
        )
    assign = {"app": label("app", tenant.name)}
    for key_, value in spec.cluster.illumio.labels.items():
        assign[key_] = label(key_, value)
    ContainerWorkloadProfile(
        f"{namespace}-profile",
        container_cluster_href=cluster_href,
        namespace=namespace,
        assign_labels=assign,
        opts=child,
    )
    for account in project.service_accounts:
        k8s.core.v1.ServiceAccount(
            f"{namespace}-sa-{account.name}", metadata={**meta, "name": account.name}, opts=child
        )
        secret = k8s.core.v1.Secret(
            f"{namespace}-token-{account.name}",
            metadata={
                **meta,
                "name": f"{account.name}-token",
                "annotations": {"kubernetes.io/service-account.name": account.name},
            },
            type="kubernetes.io/service-account-token",
            opts=child,
        )
        token = secret.data.apply(lambda data: base64.b64decode(data["token"]).decode())
        kubeconfig = pulumi.Output.secret(token).apply(
            lambda t, sa=account.name: f"users:\n- name: {sa}\n  user:\n    token: {t}\n"
        )
        vault.kv.SecretV2(
            f"{namespace}-vault-{account.name}",
            mount=spec.vault.mount,
            name=f"{spec.vault.path_prefix}/tenants/{tenant.name}/{project.name}/{account.name}",
            data_json=pulumi.Output.json_dumps({"kubeconfig": kubeconfig}),
            opts=child,
        )


def _program_module_exists() -> bool:
    try:
        return importlib.util.find_spec("tenantguard.program") is not None
    except (ImportError, ValueError):
        return False


@pytest.fixture(scope="session")
def platform_program() -> Callable[[], None]:
    """The program `render` runs: the real one when it exists, else the stand-in."""
    if _program_module_exists():
        from tenantguard.program import main

        return main
    return standin_program


@pytest.fixture
def quiet_pce_env(monkeypatch: pytest.MonkeyPatch, pce_env: Any) -> Any:
    """`pce_env` with no retries, so a refused connection fails at once."""
    monkeypatch.setenv("ILLUMIO_MAX_RETRIES", "0")
    return pce_env
