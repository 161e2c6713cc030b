"""Nothing secret and no client is pickled into state; secret outputs are marked secret."""

from __future__ import annotations

import base64
import json
from typing import Any

import dill
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import rpc

from providers.illumio import (
    ContainerCluster,
    ContainerWorkloadProfile,
    Label,
    PairingKey,
    PairingProfile,
)
from providers.illumio.container_cluster import ContainerClusterProvider
from providers.illumio.label import LabelProvider
from providers.illumio.pairing import PairingKeyProvider, PairingProfileProvider
from providers.illumio.provider_base import provider_client
from providers.illumio.workload_profile import ContainerWorkloadProfileProvider
from tests.providers.illumio.dynamic_host import DynamicHost, strip_secrets

API_SECRET = "s3cr3t-api-secret-0123456789abcdef"
CONFIG = {
    "illumio:pceUrl": "https://pce.example.com:8443",
    "illumio:orgId": "1",
    "illumio:apiKey": "api_1f2e3d4c5b6a7980",
    "illumio:apiSecret": API_SECRET,
}
PROVIDERS = [
    ContainerClusterProvider,
    LabelProvider,
    ContainerWorkloadProfileProvider,
    PairingProfileProvider,
    PairingKeyProvider,
]


def _program() -> None:
    cluster = ContainerCluster("cluster", name="prod", existing_token="1_token-value")
    label = Label("env", key="env", value="prod")
    ContainerWorkloadProfile(
        "profile",
        container_cluster_href=cluster.href,
        namespace="shop",
        assign_labels={"env": label.href, "app": None},
        label_restrictions={"role": []},
    )
    profile = PairingProfile("pairing", name="kubelink", assign_labels={"env": label.href})
    PairingKey("key", pairing_profile_href=profile.href)


def test_registered_resources_pickle_no_secret_and_mark_secret_outputs(mocked) -> None:
    recording = mocked(_program, config=CONFIG)
    tokens = {r.name: r.type for r in recording.resources}
    assert tokens == {
        "cluster": "pulumi-python:dynamic/illumio:ContainerCluster",
        "env": "pulumi-python:dynamic/illumio:Label",
        "profile": "pulumi-python:dynamic/illumio:ContainerWorkloadProfile",
        "pairing": "pulumi-python:dynamic/illumio:PairingProfile",
        "key": "pulumi-python:dynamic/illumio:PairingKey",
    }
    for resource in recording.resources:
        blob = rpc.unwrap_rpc_secret(resource.inputs["__provider"])
        raw = base64.b64decode(blob)
        assert API_SECRET.encode() not in raw, resource.name
        assert b"PceClient" not in raw and b"Session" not in raw, resource.name
        provider = dill.loads(raw)
        assert type(provider).__module__.startswith("providers.illumio.")
        assert type(provider).__module__.encode() in raw, "the class is pickled by reference"
        assert b"_create_code" not in raw and b"_create_type" not in raw, "no bytecode"
        assert vars(provider) == {}, "a provider keeps no instance state"
    secret_outputs = {r.name: r.additional_secret_outputs for r in recording.resources}
    assert secret_outputs["cluster"] == ["container_cluster_token"]
    assert secret_outputs["key"] == ["activation_code"]
    cluster = recording.named("cluster")
    assert rpc.is_rpc_secret(cluster.inputs["existing_token"]), "existing_token is sent secret"
    profile = recording.named("profile")
    assert profile.inputs["label_restrictions"] == {"role": []}
    assert profile.inputs["assign_labels"]["app"] == "", "None is marshalled as '' (no label)"


def test_configure_and_a_built_client_leave_the_pickle_unchanged() -> None:
    before = {cls: serialize_provider(cls()) for cls in PROVIDERS}
    for cls in PROVIDERS:
        provider = cls()
        provider.configure(ConfigureRequest(Config(dict(CONFIG), "tenantguard")))
        provider_client()  # built in this process, cached at module level
        after = serialize_provider(provider)
        assert after == before[cls]
        assert API_SECRET.encode() not in base64.b64decode(after)


def _strings(value: Any) -> str:
    return json.dumps(strip_secrets(value), default=str)


def test_api_secret_is_in_no_output_and_no_host_log(emu, host: DynamicHost, pce) -> None:
    secret = emu.api_secret
    cluster = host.create(ContainerClusterProvider(), {"name": "no-leak"})
    label = host.create(LabelProvider(), {"key": "env", "value": "noleak"})
    profile = host.create(
        ContainerWorkloadProfileProvider(),
        {
            "container_cluster_href": cluster.id,
            "namespace": "noleak",
            "assign_labels": {"env": label.id},
        },
    )
    pairing = host.create(PairingProfileProvider(), {"name": "noleak"})
    key = host.create(PairingKeyProvider(), {"pairing_profile_href": pairing.id})
    for state in (cluster, label, profile, pairing, key):
        assert secret not in _strings(state.outputs), state.type_token
        blob = strip_secrets(state.outputs["__provider"])
        assert secret.encode() not in base64.b64decode(blob)
        refreshed = host.read(state)
        assert refreshed is not None and secret not in _strings(refreshed.outputs)
    assert secret not in host.stderr()


def test_unpicklable_client_is_never_reachable_from_a_provider() -> None:
    provider = LabelProvider()
    provider.configure(ConfigureRequest(Config(dict(CONFIG), "tenantguard")))
    client = provider_client()
    try:
        dill.dumps(client)
    except TypeError as error:
        assert "cannot be pickled" in str(error)
    else:  # pragma: no cover - the client refuses pickling by design
        raise AssertionError("PceClient must refuse to be pickled")
    assert serialize_provider(provider)  # still fine: the client lives at module level
