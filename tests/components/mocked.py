"""Running components under recording mocks: what the real providers would answer, shared
test inputs, and checks for refusals and plaintext secrets.

Imported by the component tests and by the whole-program tests, so every mocked run sees
the same PCE, Kubernetes and Helm answers.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from typing import Any

from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockResourceArgs

from components.tenancy.models import PlatformPolicy
from tests.pulumi_mocks import Recording, run_mocked

PLATFORM_TYPE = "tenantguard:index:Platform"
ONBOARDING_TYPE = "tenantguard:index:ClusterOnboarding"
KYVERNO_TYPE = "tenantguard:index:Kyverno"
TENANT_TYPE = "tenantguard:index:Tenant"
PROJECT_TYPE = "tenantguard:index:Project"
CLUSTER_TYPE = "pulumi-python:dynamic/illumio:ContainerCluster"
PAIRING_PROFILE_TYPE = "pulumi-python:dynamic/illumio:PairingProfile"
PAIRING_KEY_TYPE = "pulumi-python:dynamic/illumio:PairingKey"
LABEL_TYPE = "pulumi-python:dynamic/illumio:Label"
PROFILE_TYPE = "pulumi-python:dynamic/illumio:ContainerWorkloadProfile"
RULE_SET_TYPE = "pulumi-python:dynamic/illumio:RuleSet"
IP_LIST_TYPE = "pulumi-python:dynamic/illumio:IpList"
PROVISION_TYPE = "pulumi-python:dynamic/illumio:PolicyProvision"
VAULT_TYPE = "vault:kv/secretV2:SecretV2"
NAMESPACE_TYPE = "kubernetes:core/v1:Namespace"
SECRET_TYPE = "kubernetes:core/v1:Secret"
RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"
K8S_PROVIDER_TYPE = "pulumi:providers:kubernetes"
VAULT_PROVIDER_TYPE = "pulumi:providers:vault"

CLUSTER_UUID = "f5bef182-8c54-4b3b-8ff1-b2bd8c6e1a2f"
CLUSTER_HREF = f"/orgs/1/container_clusters/{CLUSTER_UUID}"
PAIRING_PROFILE_HREF = "/orgs/1/pairing_profiles/42"
CLUSTER_TOKEN = "1_0dfe6a3c9b7e4f2a8d1c5b3e7f9a2d4c6e8b0a1f3d5c7e9b"
PAIRING_KEY = "8c1f0e2d4b6a8c0e2f4a6b8d0c2e4f6a8b0d2c4e6f8a0b2c"
KYVERNO_APP_VERSION = "v1.19.0"

SERVER = "https://k8s.example.com:6443"
PEM = "-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----"
PLATFORM = PlatformPolicy.model_validate(
    {
        "imageAllowlist": ["ghcr.io/acme", "docker.io"],
        "egressBaseline": ["10.0.0.0/8"],
        "quotaMax": {"requests": {"cpu": "8", "memory": "16Gi"}, "pods": 40},
        "allowClusterAdmin": False,
    }
)


def fake_token(namespace: str, account: str) -> str:
    """The token the fake token controller hands the account (distinct per account)."""
    return f"token-{namespace}-{account}"


def label_href(key: str, value: str) -> str:
    """The href the fake PCE gives label key=value."""
    return f"/orgs/1/labels/{key}={value}"


def fake_outputs(args: MockResourceArgs) -> dict[str, Any] | None:
    """What the real providers would add to the echoed inputs once a resource is created."""
    inputs = args.inputs
    if args.typ == SECRET_TYPE and inputs.get("type") == "kubernetes.io/service-account-token":
        metadata = inputs["metadata"]
        account = metadata["annotations"]["kubernetes.io/service-account.name"]
        token = fake_token(metadata["namespace"], account)
        return {"data": {"token": base64.b64encode(token.encode()).decode()}}
    if args.typ == LABEL_TYPE:
        return {"href": label_href(inputs["key"], inputs["value"])}
    if args.typ == PROFILE_TYPE:
        cluster, namespace = inputs["container_cluster_href"], inputs["namespace"]
        return {"href": f"{cluster}/container_workload_profiles/{namespace}"}
    if args.typ == CLUSTER_TYPE:
        return {
            "href": CLUSTER_HREF,
            "cluster_id": CLUSTER_UUID,
            "container_cluster_token": CLUSTER_TOKEN,
            "online": False,
        }
    if args.typ == PAIRING_PROFILE_TYPE:
        return {"href": PAIRING_PROFILE_HREF}
    if args.typ == PAIRING_KEY_TYPE:
        return {"activation_code": PAIRING_KEY}
    if args.typ in (RULE_SET_TYPE, IP_LIST_TYPE):
        kind = "rule_sets" if args.typ == RULE_SET_TYPE else "ip_lists"
        return {
            "href": f"/orgs/1/sec_policy/draft/{kind}/{inputs['name']}",
            "revision": "r1",
        }
    if args.typ == RELEASE_TYPE:
        return {
            "status": {
                "name": inputs.get("name"),
                "namespace": inputs.get("namespace"),
                "chart": inputs.get("chart"),
                "version": inputs.get("version"),
                "appVersion": KYVERNO_APP_VERSION,
                "status": "deployed",
                "revision": 1,
            }
        }
    return None


def run(program: Callable[[], Any], **kwargs: Any) -> Recording:
    """Run `program` under recording mocks with the fake provider answers."""
    return run_mocked(program, outputs_hook=fake_outputs, **kwargs)


def refused(build: Callable[[], Any], error: type[Exception] = Exception) -> Any:
    """Run `build` under mocks, expecting it to raise `error` before registering anything.

    Returns the error; fails when nothing was raised or any resource was registered.
    """
    caught: list[Exception] = []

    def program() -> None:
        try:
            build()
        except error as exc:  # the refusal under test
            caught.append(exc)

    recording = run(program)
    assert caught, "the input was accepted"
    assert recording.resources == [], [r.name for r in recording.resources]
    return caught[0]


def failure_actions(recording: Recording) -> set[str]:
    """What every Kyverno policy does on a violation: Audit, Deny (ValidatingPolicy's word
    for Enforce) or Enforce (ClusterPolicy and Policy)."""
    actions: set[str] = set()
    for policy in recording.resources:
        if "kyverno.io" in policy.type:
            spec = policy.inputs["spec"]
            if "validationActions" in spec:
                actions.update(spec["validationActions"])
            actions.update(rule["validate"]["failureAction"] for rule in spec.get("rules", []))
    return actions


def plaintext_strings(value: Any) -> Iterator[str]:
    """Every string in a recorded input that is NOT inside a secret-marked value."""
    if rpc.is_rpc_secret(value):
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from plaintext_strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from plaintext_strings(item)
