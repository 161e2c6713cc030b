"""Helm values for Illumio's chart: host:port derivation, required values, CA vs ignore_cert,
pinned versions, extra values, and the secret Output wrapper."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest
from pydantic import ValidationError

from components.illumio.kubelink_values import (
    CA_CONFIGMAP_KEY,
    CA_CONFIGMAP_NAME,
    CA_MOUNT_PATH,
    ILLUMIO_CHART,
    KubelinkSettings,
    ca_configmap_manifest,
    kubelink_values_output,
    pce_host_port,
    render_values,
)
from tests.pulumi_mocks import run_mocked

CA_PEM = (
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBszCCAVmgAwIBAgIUQ2FmZWJhYmVjYWZlYmFiZWNhZmViYWJlMAoGCCqGSM49\n"
    "-----END CERTIFICATE-----\n"
)
TOKEN = "1_0dfe6a3c9b7e4f2a8d1c5b3e7f9a2d4c6e8b0a1f3d5c7e9b"
CODE = "8c1f0e2d4b6a8c0e2f4a6b8d0c2e4f6a8b0d2c4e6f8a0b2c"
CLUSTER_ID = "f5bef182-8c54-4b3b-8ff1-b2bd8c6e1a2f"


def _values(**settings: Any) -> dict[str, Any]:
    return render_values(
        KubelinkSettings(**settings),
        pce_url="https://pce.example.com:8443",
        cluster_id=CLUSTER_ID,
        cluster_token=TOKEN,
        cluster_code=CODE,
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://pce.example.com:8443", "pce.example.com:8443"),
        ("https://pce.example.com:8443/", "pce.example.com:8443"),
        ("https://pce.example.com", "pce.example.com:443"),
        ("http://localhost", "localhost:80"),
        ("http://127.0.0.1:8080", "127.0.0.1:8080"),
        ("https://[2001:db8::1]:8443", "[2001:db8::1]:8443"),
        ("  https://PCE.Example.com:9443  ", "pce.example.com:9443"),
    ],
)
def test_pce_host_port_derives_host_and_port(url: str, expected: str) -> None:
    assert pce_host_port(url) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("pce.example.com:8443", "https:// or http:// URL with a host"),
        ("ftp://pce.example.com", "https:// or http:// URL with a host"),
        ("https://", "https:// or http:// URL with a host"),
        ("https://pce.example.com:8443/api/v2", "without a path, query or fragment"),
        ("https://pce.example.com:8443?x=1", "without a path, query or fragment"),
        ("https://pce.example.com:99999", "invalid port"),
        ("http://pce.lab.internal", "would send the API secret in clear"),
        ("http://10.0.0.5:8080", "use https://10.0.0.5:8080"),
    ],
)
def test_pce_host_port_refuses_what_kubelink_cannot_dial(url: str, message: str) -> None:
    with pytest.raises(ValueError, match="pce_url") as caught:
        pce_host_port(url)
    assert message in str(caught.value)


def test_pce_url_with_credentials_is_refused_without_echoing_them() -> None:
    with pytest.raises(ValueError, match="must not carry credentials") as caught:
        pce_host_port("https://api_1:s3cr3t-value@pce.example.com:8443")
    assert "s3cr3t-value" not in str(caught.value)


def test_every_required_value_is_present_with_its_setting() -> None:
    values = _values(container_runtime="crio", container_manager="openshift", network_type="flat")
    assert values == {
        "pce_url": "pce.example.com:8443",
        "cluster_id": CLUSTER_ID,
        "cluster_token": TOKEN,
        "cluster_code": CODE,
        "containerRuntime": "crio",
        "containerManager": "openshift",
        "networkType": "flat",
    }


def test_defaults_are_containerd_kubernetes_overlay_without_optional_keys() -> None:
    values = _values()
    assert values["containerRuntime"] == "containerd"
    assert values["containerManager"] == "kubernetes"
    assert values["networkType"] == "overlay"
    for absent in ("clusterMode", "ignore_cert", "extraVolumes", "extraVolumeMounts"):
        assert absent not in values


def test_cluster_mode_is_passed_when_set() -> None:
    assert _values(cluster_mode="clas")["clusterMode"] == "clas"


def test_ignore_cert_sets_the_flag_and_mounts_no_ca() -> None:
    values = _values(ignore_cert=True)
    assert values["ignore_cert"] is True
    assert "extraVolumes" not in values


def test_ca_bundle_mounts_the_configmap_where_illumio_reads_extra_cas() -> None:
    values = _values(ca_bundle=CA_PEM)
    assert "ignore_cert" not in values
    [volume] = values["extraVolumes"]
    [mount] = values["extraVolumeMounts"]
    assert volume["configMap"] == {"name": CA_CONFIGMAP_NAME}
    assert mount["name"] == volume["name"]
    assert mount["mountPath"] == CA_MOUNT_PATH == "/etc/pki/tls/ilo_certs/"


def test_ca_configmap_holds_the_bundle_in_the_namespace() -> None:
    manifest = ca_configmap_manifest(
        KubelinkSettings(ca_bundle=CA_PEM), "illumio-system", {"a": "b"}
    )
    assert manifest is not None
    assert manifest["metadata"] == {
        "name": CA_CONFIGMAP_NAME,
        "namespace": "illumio-system",
        "labels": {"a": "b"},
    }
    assert manifest["data"] == {CA_CONFIGMAP_KEY: CA_PEM}
    assert ca_configmap_manifest(KubelinkSettings(), "illumio-system", {}) is None


def test_extra_values_are_deep_merged() -> None:
    values = _values(
        extra_values={
            "image": {"registry": "registry.corp.example/illumio"},
            "nodeSelector": {"kubernetes.io/os": "linux"},
        }
    )
    assert values["image"] == {"registry": "registry.corp.example/illumio"}
    assert values["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert values["cluster_token"] == TOKEN


def test_user_extra_volumes_are_kept_next_to_the_ca_volume() -> None:
    own_volume = {"name": "proxy-ca", "secret": {"secretName": "proxy-ca"}}
    own_mount = {"name": "proxy-ca", "mountPath": "/etc/proxy-ca", "readOnly": True}
    values = _values(
        ca_bundle=CA_PEM,
        extra_values={"extraVolumes": [own_volume], "extraVolumeMounts": [own_mount]},
    )
    assert [v["name"] for v in values["extraVolumes"]][1:] == ["proxy-ca"]
    assert values["extraVolumes"][0]["configMap"] == {"name": CA_CONFIGMAP_NAME}
    assert values["extraVolumeMounts"][1] == own_mount


def test_chart_is_illumios_oci_chart_by_default() -> None:
    assert KubelinkSettings().chart == ILLUMIO_CHART == "oci://quay.io/illumio/illumio"


@pytest.mark.parametrize(
    ("settings", "field", "message"),
    [
        ({"container_runtime": "docker"}, "container_runtime", "'containerd', 'crio' or"),
        ({"container_manager": "rancher"}, "container_manager", "'kubernetes' or 'openshift'"),
        ({"network_type": "vxlan"}, "network_type", "'overlay' or 'flat'"),
        ({"cluster_mode": "fast"}, "cluster_mode", "'legacy', 'clas'"),
        ({"enabled": True}, "version", "required when kubelink.enabled is true"),
        ({"enabled": True, "version": "^5.1"}, "version", "exact chart version"),
        ({"version": "5.x"}, "version", "exact chart version"),
        (
            {"ignore_cert": True, "ca_bundle": CA_PEM},
            "ca_bundle",
            "cannot be combined with kubelink.ignore_cert",
        ),
        ({"ca_bundle": "not a cert"}, "ca_bundle", "PEM text"),
        (
            {"extra_values": {"containerRuntime": "crio"}},
            "extra_values",
            "'containerRuntime': it comes from kubelink.container_runtime",
        ),
        ({"extra_values": {"cluster_token": "x"}}, "extra_values", "'cluster_token'"),
        ({"extra_values": {"extraVolumes": {}}}, "extra_values", "must be a list"),
        ({"colour": "blue"}, "colour", "Extra inputs are not permitted"),
    ],
)
def test_invalid_settings_name_the_field_and_what_is_allowed(
    settings: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        KubelinkSettings(**settings)
    text = str(caught.value)
    assert field in text
    assert message in text


def test_errors_do_not_echo_extra_values() -> None:
    with pytest.raises(ValidationError) as caught:
        KubelinkSettings(extra_values={"cluster_code": "do-not-print-me"})
    assert "do-not-print-me" not in str(caught.value)


def test_pinned_versions_are_accepted() -> None:
    assert KubelinkSettings(enabled=True, version="5.1.0").version == "5.1.0"
    assert KubelinkSettings(enabled=True, version="v5.1.0-rc.1").version == "v5.1.0-rc.1"


def test_values_output_is_secret_and_resolves_to_the_values() -> None:
    seen: dict[str, Any] = {}

    def program() -> pulumi.Output[Any]:
        out = kubelink_values_output(
            KubelinkSettings(),
            pce_url="https://pce.example.com",
            cluster_id=pulumi.Output.from_input(CLUSTER_ID),
            cluster_token=pulumi.Output.from_input(TOKEN),
            cluster_code=CODE,
        )

        async def inspect() -> None:
            seen["secret"] = await out.is_secret()
            seen["value"] = await out.future()

        return pulumi.Output.from_input(inspect())

    run_mocked(program)
    assert seen["secret"] is True
    assert seen["value"]["pce_url"] == "pce.example.com:443"
    assert seen["value"]["cluster_token"] == TOKEN
    assert seen["value"]["cluster_code"] == CODE
