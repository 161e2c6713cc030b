"""Component targets: the cluster endpoint and the Vault location are checked where handed in."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from components.targets import ClusterEndpoint, VaultTarget
from tests.components.mocked import PEM, SERVER


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("server", "http://k8s.example.com:6443", "https URL"),
        ("certificate_authority", "not-a-certificate", "PEM"),
    ],
)
def test_cluster_endpoint_refuses_plain_values_that_cannot_work(field, value, message):
    values = {"server": SERVER, "certificate_authority": PEM, field: value}
    with pytest.raises(ValidationError, match=message) as caught:
        ClusterEndpoint(**values)
    assert value not in str(caught.value)  # inputs are not echoed (they may be sensitive)


def test_vault_target_normalises_and_checks_paths():
    assert VaultTarget(mount="/kv/", path_prefix="/a/b/").model_dump() == {
        "mount": "kv",
        "path_prefix": "a/b",
    }
    with pytest.raises(ValidationError, match="KV v2 mount"):
        VaultTarget(mount="/")
    with pytest.raises(ValidationError, match="empty path segments"):
        VaultTarget(mount="kv", path_prefix="a//b")


def test_vault_path_layout():
    def path(prefix: str) -> str:
        return VaultTarget(mount="kv", path_prefix=prefix).path("tenants", "t", "p", "sa")

    assert path("tenantguard") == "tenantguard/tenants/t/p/sa"
    assert path("/a/b/") == "a/b/tenants/t/p/sa"
    assert path("") == "tenants/t/p/sa"
    assert VaultTarget(mount="kv").path("clusters", "c") == "tenantguard/clusters/c"
    assert VaultTarget(mount="kv", path_prefix="x").full_path("clusters", "c") == "kv/x/clusters/c"
