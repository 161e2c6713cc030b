"""Build a realistic stack spec with N projects, for the render benchmark. Pure: no I/O.

The spec has what a real platform team's spec has, per project: a quota under the
platform ceiling, two service accounts (an `edit` deployer with a token duration and a
`view` auditor), one library policy and, for every other project, Illumio label
restrictions. Projects are spread over tenants (`projects_per_tenant` each), tenants over
a few business units; Kubelink and Kyverno are on, with the baseline policies of a dev
stack. Every name is derived from an index, so namespaces are unique at every size.
"""

from __future__ import annotations

import base64
from typing import Any

import yaml

PROJECTS_PER_TENANT = 5
BUSINESS_UNITS = ("finance", "retail", "logistics", "research")
CLUSTER_NAME = "bench-eu1"

# A public, self-signed example certificate (its key was discarded): the spec requires the
# cluster CA because projects have service accounts, and Kubelink gets a CA bundle.
EXAMPLE_CA_PEM = """\
-----BEGIN CERTIFICATE-----
MIIBzDCCAXGgAwIBAgIUR9VbtLFTmVRzHEaXXMRIZfNfiMIwCgYIKoZIzj0EAwIw
OzEWMBQGA1UECgwNRXhhbXBsZSBCZW5jaDEhMB8GA1UEAwwYRXhhbXBsZSBCZW5j
aCBDbHVzdGVyIENBMB4XDTI2MTEyMjExMDkxNFoXDTM2MTExOTExMDkxNFowOzEW
MBQGA1UECgwNRXhhbXBsZSBCZW5jaDEhMB8GA1UEAwwYRXhhbXBsZSBCZW5jaCBD
bHVzdGVyIENBMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEh6TJIjxc77cfOi22
AlVl7X8t0t7vChA1ZyCFJq7g28DzoVF4PfHEhEgc61O60T3F2wiCcAHRky2rJFsf
mEBUZ6NTMFEwHQYDVR0OBBYEFN1i4P/VbeHGqOrxOibLcL6zofa7MB8GA1UdIwQY
MBaAFN1i4P/VbeHGqOrxOibLcL6zofa7MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZI
zj0EAwIDSQAwRgIhAPCCf4AxLUAcEUfBFBKwzUuDsTd1xOHW9GU/XI9Qw2keAiEA
tLJAySIWfh+Pk8jZ6x3FDnwF9/gU4B/Na7UHF6IaBX0=
-----END CERTIFICATE-----
"""

PLATFORM_REGISTRIES = ("registry.internal.example", "ghcr.io/example-org")


def tenant_count(projects: int, projects_per_tenant: int = PROJECTS_PER_TENANT) -> int:
    """How many tenants hold `projects` projects, `projects_per_tenant` to a tenant."""
    return -(-projects // projects_per_tenant)


def _project(tenant_index: int, project_index: int) -> dict[str, Any]:
    """One project: quota, two service accounts, a policy, label restrictions on every other."""
    number = tenant_index * PROJECTS_PER_TENANT + project_index
    project: dict[str, Any] = {
        "name": f"svc-{project_index + 1}",
        "quota": {
            "requests": {"cpu": "2", "memory": "4Gi"},
            "limits": {"cpu": "4", "memory": "8Gi"},
            "pods": 40,
        },
        "psaLevel": "restricted" if number % 2 == 0 else "baseline",
        "enforcementMode": "visibility_only",
        "serviceAccounts": [
            {
                "name": "deployer",
                "role": "edit",
                "tokenDuration": "24h",
                "description": "CI pipeline that rolls out this project",
            },
            {"name": "auditor", "role": "view"},
        ],
        "policies": [
            {
                "name": "require-labels",
                "parameters": {"labels": ["app.kubernetes.io/name", "app.kubernetes.io/version"]},
            }
            if number % 2 == 0
            else {"name": "disallow-latest-tag"}
        ],
    }
    if number % 2 == 0:
        project["labelRestrictions"] = {"role": ["api", "worker"]}
    return project


def spec_document(projects: int, *, projects_per_tenant: int = PROJECTS_PER_TENANT) -> dict:
    """The stack spec with `projects` projects, as the YAML mapping a user would write."""
    if projects < 1:
        raise ValueError(f"projects must be at least 1, got {projects}")
    if projects_per_tenant < 1:
        raise ValueError(f"projects_per_tenant must be at least 1, got {projects_per_tenant}")
    tenants: list[dict[str, Any]] = []
    for t in range(tenant_count(projects, projects_per_tenant)):
        first = t * projects_per_tenant
        count = min(projects_per_tenant, projects - first)
        tenants.append(
            {
                "name": f"team-{t + 1:04d}",
                "labels": {"bu": BUSINESS_UNITS[t % len(BUSINESS_UNITS)]},
                "projects": [_project(t, p) for p in range(count)],
            }
        )
    ca_data = base64.b64encode(EXAMPLE_CA_PEM.encode("ascii")).decode("ascii")
    return {
        "cluster": {
            "name": CLUSTER_NAME,
            "description": f"Benchmark cluster with {projects} projects",
            "apiServer": "https://k8s-api.bench.internal.example:6443",
            "caData": ca_data,
            "illumio": {
                "enforcementMode": "visibility_only",
                "visibilityLevel": "flow_summary",
                "labels": {"env": "bench", "loc": "eu-west-1"},
                "pairingProfile": {"name": f"{CLUSTER_NAME}-pairing", "enabled": True},
            },
            "kubelink": {
                "enabled": True,
                "chart": "oci://quay.io/illumio/illumio",
                "version": "5.3.0",
                "containerRuntime": "containerd",
                "containerManager": "kubernetes",
                "networkType": "overlay",
                "caBundle": EXAMPLE_CA_PEM,
            },
        },
        "kyverno": {
            "enabled": True,
            "chartVersion": "3.9.0",
            "namespace": "kyverno",
            "ha": False,
            "policyApi": "validatingpolicy",
            "failureAction": "Audit",
            "baselinePolicies": [
                {"name": "disallow-privileged-containers"},
                {"name": "disallow-host-namespaces"},
                {"name": "disallow-host-path"},
                {
                    "name": "restrict-image-registries",
                    "parameters": {"registries": list(PLATFORM_REGISTRIES)},
                },
            ],
        },
        "platformPolicy": {
            "imageAllowlist": [*PLATFORM_REGISTRIES, "docker.io/library"],
            "egressBaseline": ["10.0.0.0/8", "172.16.0.0/12"],
            "quotaMax": {
                "requests": {"cpu": "8", "memory": "16Gi"},
                "limits": {"cpu": "16", "memory": "32Gi"},
                "pods": 100,
                "services": 20,
                "persistentVolumeClaims": 20,
            },
            "allowClusterAdmin": False,
            "defaultPsaLevel": "baseline",
        },
        "vault": {"mount": "secret", "pathPrefix": "tenantguard/bench"},
        "tenants": tenants,
    }


def spec_yaml(projects: int, *, projects_per_tenant: int = PROJECTS_PER_TENANT) -> str:
    """The stack spec with `projects` projects as YAML text, ready for `stacks/<stack>.yaml`."""
    header = f"# Generated by bench/spec_factory.py: {projects} projects.\n"
    document = spec_document(projects, projects_per_tenant=projects_per_tenant)
    return header + yaml.safe_dump(document, sort_keys=False, width=100)
