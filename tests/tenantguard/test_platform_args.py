"""The spec -> component-arguments mapping, without a Pulumi runtime."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from components.illumio.kubelink_values import KubelinkSettings
from stacks import KubelinkSpec, PlatformSpec, load
from tenantguard.platform_args import (
    kubelink_settings,
    kyverno_args,
    onboarding_args,
    platform_problems,
    project_key,
    webhook_excluded_namespaces,
)

PCE_URL = "https://pce.example.com:8443"


def spec_with(**cluster: Any) -> PlatformSpec:
    return PlatformSpec.model_validate(
        {
            "cluster": {"name": "lab-1", "apiServer": "https://k8s.example:6443", **cluster},
            "vault": {"pathPrefix": "tenantguard/lab"},
        }
    )


def test_kubelink_defaults_differ_and_the_spec_value_always_wins():
    assert KubelinkSpec().enabled is True
    assert KubelinkSettings().enabled is False
    on = kubelink_settings(KubelinkSpec(version="5.3.0"))
    assert on.enabled is True and on.version == "5.3.0"
    off = kubelink_settings(KubelinkSpec(enabled=False))
    assert off.enabled is False


def test_kubelink_values_become_extra_values_and_every_setting_is_carried():
    spec = KubelinkSpec.model_validate(
        {
            "version": "5.3.0",
            "containerRuntime": "crio",
            "containerManager": "openshift",
            "networkType": "flat",
            "clusterMode": "clas",
            "ignoreCert": True,
            "values": {"logLevel": "debug"},
        }
    )
    settings = kubelink_settings(spec)
    assert settings.extra_values == {"logLevel": "debug"}
    carried = ("container_runtime", "container_manager", "network_type", "cluster_mode")
    assert {name: getattr(settings, name) for name in carried} == {
        "container_runtime": "crio",
        "container_manager": "openshift",
        "network_type": "flat",
        "cluster_mode": "clas",
    }
    assert settings.ignore_cert is True and settings.chart == spec.chart


def test_illumio_system_is_kept_out_of_kyverno_only_when_kubelink_runs():
    on = spec_with(kubelink={"version": "5.3.0"})
    assert webhook_excluded_namespaces(on) == ["illumio-system"]
    off = spec_with(kubelink={"enabled": False})
    assert webhook_excluded_namespaces(off) == []
    listed = on.model_copy(
        update={
            "kyverno": on.kyverno.model_copy(
                update={"webhook_excluded_namespaces": ["illumio-system"]}
            )
        }
    )
    assert webhook_excluded_namespaces(listed) == ["illumio-system"]


def test_prod_maps_to_ha_enforcing_kyverno():
    args = kyverno_args(load("prod"))
    assert args.high_availability is True
    assert args.failure_action == "Enforce"
    assert args.excluded_namespaces == ["monitoring", "cert-manager", "illumio-system"]
    assert [p.name for p in args.policies][:2] == [
        "disallow-privileged-containers",
        "disallow-host-namespaces",
    ]


def test_onboarding_keeps_the_existing_token_secret_and_stores_under_the_prefix():
    args = onboarding_args(
        load("dev"), pce_url=PCE_URL, existing_token=SecretStr("1_existing-token")
    )
    assert args.cluster_name == "dev-eu1"
    assert args.pairing_profile_name == "dev-eu1-pairing"
    assert args.vault_path == "secret/tenantguard/dev/clusters/dev-eu1"
    assert "1_existing-token" not in repr(args)
    assert args.kubelink.enabled and args.kubelink.ca_bundle


def test_project_key_and_clean_examples():
    dev = load("dev")
    assert project_key(dev.tenants[0], dev.tenants[0].projects[1]) == "payments/ledger"
    assert platform_problems(dev, pce_url=PCE_URL) == []
    assert platform_problems(load("prod"), pce_url=PCE_URL) == []
