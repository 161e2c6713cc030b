"""ClusterOnboarding under recording mocks: the resource graph and its order, secret handling
(Vault data, Helm values, component outputs), the Helm release, schemas, and argument errors."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest
from pulumi.runtime import rpc
from pydantic import ValidationError

from components.illumio.kubelink_values import CA_CONFIGMAP_KEY, CA_CONFIGMAP_NAME, CA_MOUNT_PATH
from components.illumio.onboarding import (
    ILLUMIO_NAMESPACE_LABELS,
    TYPE_TOKEN,
    ClusterOnboarding,
    ClusterOnboardingArgs,
)
from tests.components.k8s_schema import validate_manifest
from tests.components.mocked import (
    CLUSTER_HREF,
    CLUSTER_TOKEN,
    CLUSTER_TYPE,
    CLUSTER_UUID,
    NAMESPACE_TYPE,
    PAIRING_KEY,
    PAIRING_KEY_TYPE,
    PAIRING_PROFILE_HREF,
    PAIRING_PROFILE_TYPE,
    RELEASE_TYPE,
    VAULT_TYPE,
    plaintext_strings,
    refused,
    run,
)
from tests.pulumi_mocks import Recording, Registered

CONFIGMAP = "kubernetes:core/v1:ConfigMap"
CA_PEM = (
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBszCCAVmgAwIBAgIUQ2FmZWJhYmVjYWZlYmFiZWNhZmViYWJlMAoGCCqGSM49\n"
    "-----END CERTIFICATE-----\n"
)


def make_args(**overrides: Any) -> dict[str, Any]:
    """Arguments for a fully featured onboarding (Vault + Kubelink); override per test."""
    args: dict[str, Any] = {
        "cluster_name": "prod-east",
        "description": "Production, east region",
        "pce_url": "https://pce.example.com:8443",
        "vault": {"mount": "secret", "path_prefix": "tenantguard/"},
        "kubelink": {"enabled": True, "version": "5.1.0"},
    }
    args.update(overrides)
    return args


def onboard(
    args: dict[str, Any] | ClusterOnboardingArgs, name: str = "prod"
) -> tuple[Recording, dict[str, tuple[Any, bool]]]:
    """Run the component under mocks; return the recording and each output's (value, secret)."""
    outputs: dict[str, tuple[Any, bool]] = {}

    def program() -> pulumi.Output[Any]:
        component = ClusterOnboarding(name, args)
        names = (
            "cluster_href",
            "cluster_id",
            "cluster_token",
            "pairing_profile_href",
            "pairing_key",
            "vault_path",
            "namespace",
            "release_status",
        )

        async def collect() -> None:
            for attr in names:
                value = getattr(component, attr)
                if isinstance(value, pulumi.Output):
                    outputs[attr] = (await value.future(), await value.is_secret())
                else:
                    outputs[attr] = (value, False)

        return pulumi.Output.from_input(collect())

    return run(program), outputs


def only(recording: Recording, type_: str) -> Registered:
    [resource] = recording.of_type(type_)
    return resource


@pytest.fixture(scope="module")
def full() -> tuple[Recording, dict[str, tuple[Any, bool]]]:
    return onboard(make_args())


# --- resource graph -----------------------------------------------------------------------


def test_children_have_the_expected_types_and_names(full) -> None:
    recording, _ = full
    by_type = {r.type: r.name for r in recording.resources}
    assert by_type == {
        TYPE_TOKEN: "prod",
        CLUSTER_TYPE: "prod-cluster",
        PAIRING_PROFILE_TYPE: "prod-pairing",
        PAIRING_KEY_TYPE: "prod-pairing-key",
        VAULT_TYPE: "prod-credentials",
        NAMESPACE_TYPE: "prod-namespace",
        RELEASE_TYPE: "prod-kubelink",
    }
    assert len(recording.resources) == 7


def test_every_child_is_parented_to_the_component(full) -> None:
    recording, _ = full
    component = only(recording, TYPE_TOKEN)
    for resource in recording.resources:
        if resource is not component:
            assert resource.parent == component.urn, resource.name


def test_order_cluster_then_pairing_then_vault_then_namespace_then_release(full) -> None:
    recording, _ = full
    urn = {
        t: only(recording, t).urn
        for t in (CLUSTER_TYPE, PAIRING_PROFILE_TYPE, PAIRING_KEY_TYPE, VAULT_TYPE, NAMESPACE_TYPE)
    }
    assert urn[CLUSTER_TYPE] in only(recording, PAIRING_PROFILE_TYPE).dependencies
    assert urn[PAIRING_PROFILE_TYPE] in only(recording, PAIRING_KEY_TYPE).dependencies
    assert {urn[CLUSTER_TYPE], urn[PAIRING_KEY_TYPE]} <= set(
        only(recording, VAULT_TYPE).dependencies
    )
    assert urn[VAULT_TYPE] in only(recording, NAMESPACE_TYPE).dependencies
    assert {urn[NAMESPACE_TYPE], urn[VAULT_TYPE]} <= set(only(recording, RELEASE_TYPE).dependencies)
    order = [r.type for r in recording.resources]
    assert order.index(VAULT_TYPE) < order.index(NAMESPACE_TYPE) < order.index(RELEASE_TYPE)


def test_dynamic_resources_get_their_inputs(full) -> None:
    recording, _ = full
    cluster = only(recording, CLUSTER_TYPE).inputs
    assert cluster["name"] == "prod-east"
    assert cluster["description"] == "Production, east region"
    profile = only(recording, PAIRING_PROFILE_TYPE).inputs
    assert profile["name"] == "prod-east-pairing"
    assert profile["enabled"] is True
    assert profile["enforcement_mode"] == "visibility_only"
    assert profile["visibility_level"] == "flow_summary"
    assert only(recording, PAIRING_KEY_TYPE).inputs["pairing_profile_href"] == PAIRING_PROFILE_HREF


def test_pairing_settings_are_passed_through() -> None:
    recording, outputs = onboard(
        make_args(
            pairing={
                "name": "kubelink-prod",
                "enforcement_mode": "full",
                "visibility_level": "flow_drops",
                "assign_labels": {"env": "/orgs/1/labels/7", "loc": "/orgs/1/labels/9"},
            }
        )
    )
    profile = only(recording, PAIRING_PROFILE_TYPE).inputs
    assert profile["name"] == "kubelink-prod"
    assert profile["enforcement_mode"] == "full"
    assert profile["visibility_level"] == "flow_drops"
    assert profile["assign_labels"] == {"env": "/orgs/1/labels/7", "loc": "/orgs/1/labels/9"}
    assert outputs["pairing_profile_href"] == (PAIRING_PROFILE_HREF, False)


def test_outputs_carry_the_pce_and_vault_facts(full) -> None:
    _, outputs = full
    assert outputs["cluster_href"] == (CLUSTER_HREF, False)
    assert outputs["cluster_id"] == (CLUSTER_UUID, False)
    assert outputs["pairing_profile_href"] == (PAIRING_PROFILE_HREF, False)
    assert outputs["vault_path"] == ("secret/tenantguard/clusters/prod-east", False)
    assert outputs["namespace"] == ("illumio-system", False)
    assert outputs["release_status"] == ("deployed", False)


# --- secret handling ----------------------------------------------------------------------


def test_vault_secret_data_is_a_secret_holding_id_token_and_key(full) -> None:
    recording, _ = full
    secret = only(recording, VAULT_TYPE)
    assert secret.inputs["mount"] == "secret"
    assert secret.inputs["name"] == "tenantguard/clusters/prod-east"
    data_json = secret.inputs["dataJson"]
    assert rpc.is_rpc_secret(data_json)
    assert json.loads(rpc.unwrap_rpc_secret(data_json)) == {
        "cluster_id": CLUSTER_UUID,
        "cluster_token": CLUSTER_TOKEN,
        "pairing_key": PAIRING_KEY,
    }


def test_release_values_with_token_and_code_are_secret(full) -> None:
    recording, _ = full
    release = only(recording, RELEASE_TYPE)
    assert rpc.is_rpc_secret(release.inputs["values"])
    values = rpc.unwrap_rpc_secret(release.inputs["values"])
    assert values["cluster_token"] == CLUSTER_TOKEN
    assert values["cluster_code"] == PAIRING_KEY
    assert "values" in release.additional_secret_outputs


def test_component_outputs_token_and_key_are_secret(full) -> None:
    _, outputs = full
    assert outputs["cluster_token"] == (CLUSTER_TOKEN, True)
    assert outputs["pairing_key"] == (PAIRING_KEY, True)


def test_pce_resources_register_their_secret_outputs(full) -> None:
    recording, _ = full
    assert "container_cluster_token" in only(recording, CLUSTER_TYPE).additional_secret_outputs
    assert "activation_code" in only(recording, PAIRING_KEY_TYPE).additional_secret_outputs


def test_no_plaintext_input_holds_the_token_or_key(full) -> None:
    recording, _ = full
    for resource in recording.resources:
        for text in plaintext_strings(resource.inputs):
            assert CLUSTER_TOKEN not in text, resource.name
            assert PAIRING_KEY not in text, resource.name


def test_existing_token_is_passed_as_a_secret_and_never_shown() -> None:
    existing = "1_existing5a3c9b7e4f2a8d1c5b3e7f9a2d4c6e8b0a1f3d5"
    args = ClusterOnboardingArgs(**make_args(existing_token=existing))
    assert existing not in repr(args)
    assert existing not in str(args.model_dump())
    recording, _ = onboard(args)
    cluster_input = only(recording, CLUSTER_TYPE).inputs["existing_token"]
    assert rpc.is_rpc_secret(cluster_input)
    assert rpc.unwrap_rpc_secret(cluster_input) == existing
    for resource in recording.resources:
        for text in plaintext_strings(resource.inputs):
            assert existing not in text, resource.name


def test_without_vault_no_secret_is_written_and_outputs_stay_secret() -> None:
    recording, outputs = onboard(make_args(vault=None))
    assert recording.of_type(VAULT_TYPE) == []
    assert outputs["vault_path"] == (None, False)
    assert outputs["cluster_token"] == (CLUSTER_TOKEN, True)
    key_urn = only(recording, PAIRING_KEY_TYPE).urn
    assert key_urn in only(recording, NAMESPACE_TYPE).dependencies
    assert key_urn in only(recording, RELEASE_TYPE).dependencies


# --- Helm release -------------------------------------------------------------------------


def release_values(recording: Recording) -> dict[str, Any]:
    return rpc.unwrap_rpc_secret(only(recording, RELEASE_TYPE).inputs["values"])


def test_release_is_the_pinned_illumio_chart_in_illumio_system(full) -> None:
    recording, _ = full
    inputs = only(recording, RELEASE_TYPE).inputs
    assert inputs["chart"] == "oci://quay.io/illumio/illumio"
    assert inputs["version"] == "5.1.0"
    assert inputs["namespace"] == "illumio-system"
    assert inputs["name"] == "illumio"
    assert inputs.get("createNamespace") in (None, False)


def test_release_values_hold_every_required_value(full) -> None:
    recording, _ = full
    values = release_values(recording)
    assert values == {
        "pce_url": "pce.example.com:8443",
        "cluster_id": CLUSTER_UUID,
        "cluster_token": CLUSTER_TOKEN,
        "cluster_code": PAIRING_KEY,
        "containerRuntime": "containerd",
        "containerManager": "kubernetes",
        "networkType": "overlay",
    }


@pytest.mark.parametrize(
    ("pce_url", "expected"),
    [
        ("https://pce.example.com", "pce.example.com:443"),
        ("https://pce.example.com:9443/", "pce.example.com:9443"),
    ],
)
def test_release_pce_url_is_host_and_port(pce_url: str, expected: str) -> None:
    recording, _ = onboard(make_args(pce_url=pce_url))
    assert release_values(recording)["pce_url"] == expected


def test_release_settings_and_extra_values_reach_the_chart() -> None:
    recording, _ = onboard(
        make_args(
            kubelink={
                "enabled": True,
                "version": "5.2.1",
                "chart": "oci://registry.corp.example/mirror/illumio",
                "container_runtime": "k3s_containerd",
                "container_manager": "openshift",
                "network_type": "flat",
                "cluster_mode": "clas",
                "ignore_cert": True,
                "extra_values": {"storage": {"sizeGi": 2}, "nodeSelector": {"pool": "system"}},
            }
        )
    )
    inputs = only(recording, RELEASE_TYPE).inputs
    assert inputs["chart"] == "oci://registry.corp.example/mirror/illumio"
    assert inputs["version"] == "5.2.1"
    values = release_values(recording)
    assert values["containerRuntime"] == "k3s_containerd"
    assert values["containerManager"] == "openshift"
    assert values["networkType"] == "flat"
    assert values["clusterMode"] == "clas"
    assert values["ignore_cert"] is True
    assert values["storage"] == {"sizeGi": 2}
    assert values["nodeSelector"] == {"pool": "system"}
    assert recording.of_type(CONFIGMAP) == []


def test_private_ca_goes_into_a_configmap_the_release_mounts() -> None:
    recording, _ = onboard(
        make_args(kubelink={"enabled": True, "version": "5.1.0", "ca_bundle": CA_PEM})
    )
    configmap = only(recording, CONFIGMAP)
    assert configmap.inputs["metadata"]["name"] == CA_CONFIGMAP_NAME
    assert configmap.inputs["metadata"]["namespace"] == "illumio-system"
    assert configmap.inputs["data"] == {CA_CONFIGMAP_KEY: CA_PEM}
    assert only(recording, NAMESPACE_TYPE).urn in configmap.dependencies
    assert configmap.urn in only(recording, RELEASE_TYPE).dependencies
    values = release_values(recording)
    assert "ignore_cert" not in values
    assert values["extraVolumes"][0]["configMap"]["name"] == CA_CONFIGMAP_NAME
    assert values["extraVolumeMounts"][0]["mountPath"] == CA_MOUNT_PATH


def test_chart_disabled_registers_no_release_and_outputs_are_fine() -> None:
    recording, outputs = onboard(make_args(kubelink={"enabled": False}))
    assert recording.of_type(RELEASE_TYPE) == []
    assert recording.of_type(CONFIGMAP) == []
    assert outputs["release_status"] == (None, False)
    assert outputs["cluster_token"] == (CLUSTER_TOKEN, True)
    assert outputs["pairing_key"] == (PAIRING_KEY, True)
    assert outputs["namespace"] == ("illumio-system", False)
    assert len(recording.of_type(VAULT_TYPE)) == 1


# --- Kubernetes schemas -------------------------------------------------------------------


def test_namespace_is_privileged_for_the_cven_and_managed_by_tenantguard(full) -> None:
    recording, _ = full
    metadata = only(recording, NAMESPACE_TYPE).inputs["metadata"]
    assert metadata["name"] == "illumio-system"
    assert metadata["labels"] == ILLUMIO_NAMESPACE_LABELS
    assert metadata["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    assert metadata["labels"]["app.kubernetes.io/managed-by"] == "tenantguard"


def test_namespace_and_configmap_validate_against_kubernetes_schemas() -> None:
    recording, _ = onboard(
        make_args(kubelink={"enabled": True, "version": "5.1.0", "ca_bundle": CA_PEM})
    )
    for type_ in (NAMESPACE_TYPE, CONFIGMAP):
        validate_manifest(only(recording, type_).inputs)


def test_release_ca_volumes_validate_as_pod_volumes() -> None:
    """The chart copies extraVolumes/extraVolumeMounts into its pods: they must be valid there."""
    recording, _ = onboard(
        make_args(kubelink={"enabled": True, "version": "5.1.0", "ca_bundle": CA_PEM})
    )
    values = release_values(recording)
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "cven", "namespace": "illumio-system"},
        "spec": {
            "containers": [
                {
                    "name": "cven",
                    "image": "illumio/cven",
                    "volumeMounts": values["extraVolumeMounts"],
                }
            ],
            "volumes": values["extraVolumes"],
        },
    }
    validate_manifest(pod)


# --- argument errors ----------------------------------------------------------------------


def refused_args(args: dict[str, Any]) -> ValidationError:
    """Build the component from raw args; the ValidationError it raised before registering."""
    return refused(lambda: ClusterOnboarding("prod", args), ValidationError)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"kubelink": {"enabled": True, "version": "5.1.0", "container_runtime": "docker"}},
            ["kubelink.container_runtime", "'containerd', 'crio' or 'k3s_containerd'"],
        ),
        (
            {"kubelink": {"enabled": True, "version": "5.1.0", "container_manager": "nomad"}},
            ["kubelink.container_manager", "'kubernetes' or 'openshift'"],
        ),
        (
            {"kubelink": {"enabled": True, "version": "5.1.0", "network_type": "vxlan"}},
            ["kubelink.network_type", "'overlay' or 'flat'"],
        ),
        (
            {
                "kubelink": {
                    "enabled": True,
                    "version": "5.1.0",
                    "ignore_cert": True,
                    "ca_bundle": CA_PEM,
                }
            },
            ["kubelink.ca_bundle", "cannot be combined with kubelink.ignore_cert"],
        ),
        (
            {"kubelink": {"enabled": True}},
            ["kubelink.version", "required when kubelink.enabled is true"],
        ),
        (
            {"pce_url": "pce.example.com:8443"},
            ["pce_url", "https:// or http:// URL with a host"],
        ),
        (
            {"pce_url": "https://"},
            ["pce_url", "https:// or http:// URL with a host"],
        ),
        ({"vault": {"mount": "/"}}, ["vault.mount", "must name the KV v2 mount"]),
        ({"cluster_name": "a/b"}, ["cluster_name", "must not", "contain '/'"]),
        ({"cluster_name": ""}, ["cluster_name", "at least 1 character"]),
        (
            {"pairing": {"enforcement_mode": "selective"}},
            ["pairing.enforcement_mode", "'idle', 'visibility_only' or 'full'"],
        ),
    ],
)
def test_invalid_arguments_fail_before_anything_registers(
    overrides: dict[str, Any], expected: list[str]
) -> None:
    error = refused_args(make_args(**overrides))
    for fragment in expected:
        assert fragment in str(error)


def test_error_messages_never_echo_the_existing_token() -> None:
    secret = "1_dontprint9b7e4f2a8d1c5b3e7f9a2d4c6e8b0a1f3d5c7e9b"
    error = refused_args(make_args(existing_token=secret, pce_url="nope"))
    assert secret not in str(error)
