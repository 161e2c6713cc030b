"""get_service_backends: runs in the program process, settings from Pulumi config or env."""

from __future__ import annotations

import pulumi
import pytest

from providers.illumio import PceSettingsError, ServiceBackend, get_service_backends


@pytest.fixture
def cluster(pce, emu) -> str:
    href = pce.create_container_cluster("backends", "").href
    emu.add_service_backend(href, "web", "Deployment", "shop", "shop-web")
    emu.add_service_backend(href, "db", "StatefulSet", "shop", "shop-db")
    return href


def test_reads_backends_with_settings_from_the_environment(pce_env, cluster) -> None:
    pulumi.runtime.set_all_config({})  # no stack config (earlier mocked programs set some)
    pce_env.reset_counts()
    backends = get_service_backends(cluster)
    assert all(isinstance(b, ServiceBackend) for b in backends)
    assert sorted((b.name, b.kind, b.namespace) for b in backends) == [
        ("db", "StatefulSet", "shop"),
        ("web", "Deployment", "shop"),
    ]
    assert {b.virtual_service.name for b in backends} == {"shop-web", "shop-db"}
    assert pce_env.count() == 1 and pce_env.count("GET", "service_backends") == 1


def test_reads_settings_from_pulumi_config_inside_a_program(
    emu, cluster, mocked, monkeypatch
) -> None:
    for name in ("ILLUMIO_PCE_URL", "ILLUMIO_ORG_ID", "ILLUMIO_API_KEY", "ILLUMIO_API_SECRET"):
        monkeypatch.delenv(name, raising=False)
    seen: list[list[ServiceBackend]] = []
    mocked(
        lambda: seen.append(get_service_backends(cluster)),
        config={
            "illumio:pceUrl": emu.url,
            "illumio:orgId": str(emu.org_id),
            "illumio:apiKey": emu.api_key,
            "illumio:apiSecret": emu.api_secret,
        },
    )
    assert [sorted(b.name for b in found) for found in seen] == [["db", "web"]]


def test_missing_settings_name_the_config_key_and_env_var(mocked, monkeypatch) -> None:
    for name in ("ILLUMIO_PCE_URL", "ILLUMIO_ORG_ID", "ILLUMIO_API_KEY", "ILLUMIO_API_SECRET"):
        monkeypatch.delenv(name, raising=False)
    mocked(lambda: None, config={})  # a program with no illumio:* config
    with pytest.raises(PceSettingsError) as caught:
        get_service_backends("/orgs/1/container_clusters/0b5c1a9e-0000-4000-8000-000000000001")
    assert "illumio:pceUrl" in str(caught.value) and "ILLUMIO_PCE_URL" in str(caught.value)
