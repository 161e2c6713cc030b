"""The PlatformSpec schema on its own: defaults, field rules, cross-section rules, allowed text."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from components.tenancy.models import PlatformPolicy, ProjectSpec, Quota, TenantSpec
from stacks import (
    ClusterSpec,
    KubelinkSpec,
    KyvernoSpec,
    PlatformSpec,
    VaultSpec,
    section_problems,
)
from stacks.schema_guide import describe_slot, slot_at
from stacks.spec import looks_like_secret_key

DEV_YAML = (Path(__file__).parents[2] / "stacks" / "dev.yaml").read_text(encoding="utf-8")
CERT_PEM = DEV_YAML[
    DEV_YAML.index("-----BEGIN CERTIFICATE-----") : DEV_YAML.index("-----END CERTIFICATE-----")
]
CERT_PEM = (
    "\n".join(line.strip() for line in CERT_PEM.splitlines()) + "\n-----END CERTIFICATE-----\n"
)
KEY_PEM = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg\n-----END EC PRIVATE KEY-----\n"


def minimal(**overrides: Any) -> dict[str, Any]:
    """The smallest spec that validates, as YAML would give it (camelCase keys)."""
    data: dict[str, Any] = {
        "cluster": {
            "name": "lab-1",
            "apiServer": "https://k8s-api.lab.internal.example:6443",
            "kubelink": {"version": "5.3.0"},
        },
        "vault": {"pathPrefix": "tenantguard/lab"},
    }
    data.update(overrides)
    return data


def validate(data: dict[str, Any]) -> PlatformSpec:
    return PlatformSpec.model_validate(data, by_alias=True, by_name=False)


def error_paths(exc: ValidationError) -> list[tuple[Any, ...]]:
    return [error["loc"] for error in exc.errors()]


def test_defaults() -> None:
    spec = validate(minimal())
    assert spec.cluster.illumio.enforcement_mode == "visibility_only"
    assert spec.cluster.illumio.visibility_level == "flow_summary"
    assert spec.cluster.illumio.pairing_profile.name == "lab-1-pairing"
    assert spec.cluster.illumio.pairing_profile.enabled is True
    assert spec.cluster.pairing_profile_name == "lab-1-pairing"
    kubelink = spec.cluster.kubelink
    assert (kubelink.enabled, kubelink.chart) == (True, "oci://quay.io/illumio/illumio")
    assert (kubelink.container_runtime, kubelink.container_manager) == ("containerd", "kubernetes")
    assert (kubelink.network_type, kubelink.cluster_mode, kubelink.ignore_cert) == (
        "overlay",
        None,
        False,
    )
    kyverno = spec.kyverno
    assert (kyverno.enabled, kyverno.chart_version, kyverno.namespace) == (True, "3.9.0", "kyverno")
    assert (kyverno.ha, kyverno.policy_api, kyverno.failure_action) == (
        False,
        "validatingpolicy",
        "Audit",
    )
    assert spec.vault == VaultSpec(mount="secret", path_prefix="tenantguard/lab")
    assert spec.tenants == [] and spec.platform_policy == PlatformPolicy()


def test_a_given_pairing_profile_name_is_kept() -> None:
    data = minimal()
    data["cluster"]["illumio"] = {"pairingProfile": {"name": "lab-c-ven", "enabled": False}}
    profile = validate(data).cluster.illumio.pairing_profile
    assert (profile.name, profile.enabled) == ("lab-c-ven", False)


def test_python_callers_use_snake_case_names() -> None:
    cluster = ClusterSpec(name="lab-1", api_server="https://k8s-api.lab.internal.example")
    spec = PlatformSpec(cluster=cluster, vault=VaultSpec(path_prefix="tenantguard/lab"))
    assert spec.cluster.illumio.pairing_profile.name == "lab-1-pairing"
    dumped = spec.model_dump(by_alias=True)
    assert dumped["cluster"]["apiServer"] == "https://k8s-api.lab.internal.example"
    assert dumped["platformPolicy"]["quotaMax"] == Quota().model_dump(by_alias=True)


def test_models_are_frozen() -> None:
    spec = validate(minimal())
    with pytest.raises(ValidationError):
        spec.cluster.name = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    "url",
    [
        "http://k8s-api.lab.internal.example:6443",
        "k8s-api.lab.internal.example:6443",
        "https://",
        "https://admin:pw@k8s-api.lab.internal.example",
        "https://k8s-api.lab.internal.example:64x3",
        "https://k8s-api.lab.internal.example/?insecure=1",
    ],
)
def test_api_server_must_be_a_plain_https_url(url: str) -> None:
    with pytest.raises(ValidationError) as info:
        ClusterSpec.model_validate({"name": "lab-1", "apiServer": url})
    assert error_paths(info.value) == [("apiServer",)]


def test_api_server_credentials_are_refused_without_repeating_them() -> None:
    url = "https://admin:s3cr3t-pass@k8s-api.lab.internal.example"
    with pytest.raises(ValidationError) as info:
        ClusterSpec.model_validate({"name": "lab-1", "apiServer": url})
    (error,) = info.value.errors()
    assert error["msg"].startswith("Value error, must not carry credentials (user:password@)")
    assert "admin" not in error["msg"] and "s3cr3t-pass" not in error["msg"]


@pytest.mark.parametrize("name", ["", " lab", "lab/1", "x" * 256, "lab\n1"])
def test_cluster_name_rules(name: str) -> None:
    with pytest.raises(ValidationError) as info:
        ClusterSpec.model_validate({"name": name, "apiServer": "https://k8s.example"})
    assert error_paths(info.value) == [("name",)]


def test_cluster_name_may_be_255_characters() -> None:
    cluster = ClusterSpec.model_validate({"name": "c" * 255, "apiServer": "https://k8s.example"})
    assert len(cluster.name) == 255


def test_ca_data_is_base64_of_a_pem_certificate() -> None:
    good = base64.b64encode(CERT_PEM.encode()).decode()
    cluster = ClusterSpec.model_validate(
        {"name": "lab-1", "apiServer": "https://k8s.example", "caData": good}
    )
    assert cluster.ca_data == good
    for bad, reason in (
        (CERT_PEM, "is not base64"),
        (base64.b64encode(b"hello").decode(), "does not decode to a PEM certificate"),
        (base64.b64encode(KEY_PEM.encode()).decode(), "decodes to a private key"),
    ):
        with pytest.raises(ValidationError) as info:
            ClusterSpec.model_validate(
                {"name": "lab-1", "apiServer": "https://k8s.example", "caData": bad}
            )
        assert reason in str(info.value)
        assert "MHcCAQEEIBkg" not in str(info.value)


def test_ca_bundle_is_pem_certificates_and_never_a_key() -> None:
    assert KubelinkSpec(ca_bundle=CERT_PEM).ca_bundle == CERT_PEM
    with pytest.raises(ValidationError, match="is not PEM text"):
        KubelinkSpec(ca_bundle="not a certificate")
    with pytest.raises(ValidationError, match="holds a private key") as info:
        KubelinkSpec(ca_bundle=CERT_PEM + KEY_PEM)
    assert "MHcCAQEEIBkg" not in str(info.value)


@pytest.mark.parametrize("version", ["5.3.0", "v1.2.3", "5.3.0-rc.1", "5.3.0+build.7"])
def test_pinned_versions(version: str) -> None:
    assert KubelinkSpec(version=version).version == version
    assert KyvernoSpec(chart_version=version).chart_version == version


@pytest.mark.parametrize("version", ["^5", "5.x", "~5.1", "latest", "5.3", ">=5.0.0", "*"])
def test_version_ranges_are_refused(version: str) -> None:
    with pytest.raises(ValidationError, match="is not pinned"):
        KubelinkSpec(version=version)
    with pytest.raises(ValidationError, match="is not pinned"):
        KyvernoSpec(chart_version=version)


def test_chart_must_be_an_oci_or_https_reference() -> None:
    assert KubelinkSpec(chart="https://charts.internal.example/illumio").chart
    with pytest.raises(ValidationError, match="chart reference"):
        KubelinkSpec(chart="illumio/illumio")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("container_runtime", "docker"),
        ("container_manager", "rancher"),
        ("network_type", "bgp"),
        ("cluster_mode", "hybrid"),
    ],
)
def test_kubelink_literals(field: str, value: str) -> None:
    with pytest.raises(ValidationError) as info:
        KubelinkSpec(**{field: value})
    assert info.value.errors()[0]["type"] == "literal_error"


@pytest.mark.parametrize(
    "path", ["tenantguard/dev", "tenantguard", "platform/tenantguard/prod-eu1", "kv_2/a.b"]
)
def test_vault_paths(path: str) -> None:
    assert VaultSpec(path_prefix=path).path_prefix == path


@pytest.mark.parametrize(
    "path", ["/tenantguard", "tenantguard/", "a/../b", "..", "a//b", "a/./b", "a b", ""]
)
def test_bad_vault_paths(path: str) -> None:
    with pytest.raises(ValidationError) as info:
        VaultSpec.model_validate({"pathPrefix": path})
    assert error_paths(info.value) == [("pathPrefix",)]


def test_illumio_label_keys_are_1_to_64_characters() -> None:
    data = minimal()
    data["cluster"]["illumio"] = {"labels": {"k" * 64: "v"}}
    assert validate(data).cluster.illumio.labels == {"k" * 64: "v"}
    for labels in ({"k" * 65: "v"}, {"": "v"}, {"env": ""}):
        data["cluster"]["illumio"] = {"labels": labels}
        with pytest.raises(ValidationError) as info:
            validate(data)
        assert error_paths(info.value) == [("cluster", "illumio", "labels")]


@pytest.mark.parametrize(
    "key",
    [
        "apiSecret",
        "token",
        "password",
        "clusterToken",
        "cluster_token",
        "api_key",
        "privateKey",
        "clientSecret",
        "credentials",
        "vaultToken",
        "passphrase",
    ],
)
def test_secret_looking_keys(key: str) -> None:
    assert looks_like_secret_key(key)


@pytest.mark.parametrize(
    "key",
    [
        "tokenDuration",
        "imagePullSecrets",
        "existingSecret",
        "secretName",
        "caBundle",
        "caData",
        "apiServer",
        "name",
        "tokenSecretRef",
        "ignoreCert",
    ],
)
def test_keys_that_are_not_secrets(key: str) -> None:
    assert not looks_like_secret_key(key)


# ------------------------------------------------------------------ what is allowed where


@pytest.mark.parametrize(
    ("loc", "allowed"),
    [
        (("kyverno", "failureAction"), "one of Audit, Enforce"),
        (("tenants", 0, "projects", 2, "quota", "pods"), "a whole number (at least 0)"),
        (("tenants", 1, "projects", 0, "quota", "requests", "cpu"), "a Kubernetes quantity"),
        (("tenants", 0, "name"), "a DNS-1123 label"),
        (("kyverno", "webhookExcludedNamespaces", 3), "a DNS-1123 label"),
        (("vault",), "a mapping with keys mount, pathPrefix"),
        (("cluster", "kubelink", "containerRuntime"), "one of containerd, crio, k3s_containerd"),
        (
            ("tenants", 0, "projects", 0, "serviceAccounts", 0, "role"),
            "one of view, edit, admin, cluster-admin, custom",
        ),
        (("platformPolicy", "allowClusterAdmin"), "true or false"),
    ],
)
def test_allowed_text_for_a_path(loc: tuple[Any, ...], allowed: str) -> None:
    slot = slot_at(loc)
    assert slot is not None
    assert describe_slot(slot).startswith(allowed)


def test_no_slot_for_a_path_outside_the_schema() -> None:
    assert slot_at(("cluster", "nope")) is None
    assert slot_at(("tenants", "first")) is None


# ------------------------------------------------------------------ rules across sections


def spec_with(**sections: Any) -> PlatformSpec:
    return validate(minimal(**sections))


def test_a_coherent_spec_has_no_section_problems() -> None:
    spec = spec_with(tenants=[{"name": "alpha", "projects": [{"name": "web"}]}])
    assert section_problems(spec, check_policy=None) == []


def test_section_rules_report_every_problem_with_its_path() -> None:
    data = minimal(
        kyverno={"namespace": "guard", "webhookExcludedNamespaces": ["alpha-web"]},
        tenants=[
            {
                "name": "alpha",
                "labels": {"env": "qa"},
                "projects": [{"name": "web", "enforcementMode": "idle"}, {"name": "guard"}],
            },
            {"name": "beta", "projects": [{"name": "api", "namespace": "guard"}]},
        ],
    )
    data["cluster"]["illumio"] = {"labels": {"env": "lab", "app": "shared"}}
    data["cluster"]["kubelink"] = {
        "enabled": True,
        "ignoreCert": True,
        "caBundle": CERT_PEM,
        "values": {"clusterMode": "clas"},
    }
    problems = section_problems(validate(data), check_policy=None)
    assert sorted(p.path for p in problems) == sorted(
        [
            "cluster.kubelink.version",
            "cluster.kubelink.caBundle",
            "cluster.kubelink.values.clusterMode",
            "cluster.illumio.labels.app",
            "kyverno.webhookExcludedNamespaces[0]",
            "tenants[0].labels.env",
            "tenants[0].projects[0].enforcementMode",
            "tenants[1].projects[0].namespace",
        ]
    )


def test_section_problems_pass_policies_to_the_checker() -> None:
    seen: list[tuple[str, dict[str, Any]]] = []

    def checker(name: str, parameters: Any) -> None:
        seen.append((name, dict(parameters)))
        if name == "bad":
            raise ValueError("unknown policy template")

    spec = spec_with(
        kyverno={"baselinePolicies": [{"name": "bad"}, {"name": "fine", "parameters": {"a": 1}}]},
        tenants=[{"name": "alpha", "projects": [{"name": "web", "policies": [{"name": "bad"}]}]}],
    )
    problems = section_problems(spec, check_policy=checker)
    assert seen == [("bad", {}), ("fine", {"a": 1}), ("bad", {})]
    assert [(p.path, p.message) for p in problems] == [
        ("kyverno.baselinePolicies[0]", "baseline policy 'bad': unknown policy template"),
        (
            "tenants[0].projects[0].policies[0]",
            "tenant 'alpha', project 'web', policy 'bad': unknown policy template",
        ),
    ]


def test_namespaces_map_to_their_tenant_and_project() -> None:
    spec = spec_with(
        tenants=[
            TenantSpec(
                name="alpha",
                projects=[ProjectSpec(name="web"), ProjectSpec(name="db", namespace="alpha-data")],
            ).model_dump(by_alias=True)
        ]
    )
    assert spec.namespaces() == {"alpha-web": ("alpha", "web"), "alpha-data": ("alpha", "db")}
