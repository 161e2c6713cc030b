"""The whole tenantguard program (`tenantguard.program.main`) through the engine stand-in,
against the PCE emulator: what `pulumi up` / `destroy` do to the PCE for a real stack spec.

The spec is written to a temporary stacks directory (`main(spec_directory=...)`) and named
by `tenantguard:spec`, as a user's `Pulumi.<stack>.yaml` would name it. Kubernetes, Vault
and Helm resources only echo their inputs here; the PCE side is real HTTP.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pulumi.runtime import rpc

from tenantguard.program import main
from tests.engine.conftest import request_counts
from tests.engine.standin import EngineStandIn, RunResult
from tests.pce_emulator import PceEmulator

STACK = "e2e"
CLUSTER = "e2e-eu1"
VAULT_TOKEN = "hvs.e2e-vault-token-5f4e3d2c"
KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts: []\n"
CA_DATA = base64.b64encode(
    b"-----BEGIN CERTIFICATE-----\n"
    b"MIIBjjCCATOgAwIBAgIUG7icrDDh96UKvU26fY82naPDOYswCgYIKoZIzj0EAwIw\n"
    b"-----END CERTIFICATE-----\n"
).decode()

SPEC = f"""\
cluster:
  name: {CLUSTER}
  description: engine stand-in end-to-end cluster
  apiServer: https://k8s-api.e2e.example:6443
  caData: {CA_DATA}
  illumio:
    enforcementMode: visibility_only
    labels:
      env: e2e
      loc: lab
  kubelink:
    enabled: true
    version: 5.3.0
kyverno:
  enabled: true
  chartVersion: 3.9.0
  baselinePolicies:
    - name: disallow-privileged-containers
vault:
  mount: secret
  pathPrefix: tenantguard/e2e
tenants:
  - name: shop
    projects:
      - name: web
        labelRestrictions:
          role: [web, worker]
        serviceAccounts:
          - name: deployer
            role: edit
      - name: db
        enforcementMode: {{db_mode}}
        labelRestrictions:
          role: [db]
"""
API_PROJECT = """\
      - name: api
        labelRestrictions:
          role: [web, api]
"""


def write_spec(directory: Path, *, db_mode: str = "full", with_api: bool = False) -> None:
    """`<directory>/e2e.yaml`: one tenant, two projects (a third with `with_api`)."""
    text = SPEC.format(db_mode=db_mode) + (API_PROJECT if with_api else "")
    (directory / f"{STACK}.yaml").write_text(text)


@pytest.fixture
def spec_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "stacks"
    directory.mkdir()
    write_spec(directory)
    return directory


@pytest.fixture
def engine(emu: PceEmulator, make_engine: Callable[..., EngineStandIn]) -> EngineStandIn:
    """The stack's config as `pulumi config set` leaves it; loc=lab already exists in the PCE."""
    emu.add_label("loc", "lab")
    return make_engine(
        **{
            "tenantguard:spec": STACK,
            "kubernetes:kubeconfig": rpc.wrap_rpc_secret(KUBECONFIG),
            "vault:address": "https://vault.e2e.example:8200",
            "vault:token": rpc.wrap_rpc_secret(VAULT_TOKEN),
        }
    )


def program(spec_dir: Path) -> Callable[[], Any]:
    return lambda: main(spec_directory=spec_dir)


def expected_labels(*, with_api: bool = False) -> list[tuple[str, str]]:
    """Platform labels, each project's own app label (its PCE identity) and the roles."""
    labels = [("env", "e2e"), ("loc", "lab"), ("app", "shop-web"), ("app", "shop-db")]
    labels += [("role", "web"), ("role", "worker"), ("role", "db")]
    extra = [("app", "shop-api"), ("role", "api")] if with_api else []
    return sorted(labels + extra)


def assert_pce_holds_the_spec(
    emu: PceEmulator, result: RunResult, *, db_mode: str = "full", with_api: bool = False
) -> None:
    """Exactly the PCE objects the spec implies, with no duplicates."""
    [cluster_href] = list(emu.clusters)
    assert emu.clusters[cluster_href]["name"] == CLUSTER
    assert result.exports["cluster_href"] == cluster_href
    assert sorted((lb["key"], lb["value"]) for lb in emu.labels.values()) == expected_labels(
        with_api=with_api
    )
    [pairing] = list(emu.pairing_profiles.values())
    assert pairing["name"] == f"{CLUSTER}-pairing"
    assert len(emu.activation_codes(pairing["href"])) == 1, "one pairing key, never re-minted"

    profiles = {p["namespace"]: p for p in emu.profiles.values()}
    namespaces = ["shop-web", "shop-db"] + (["shop-api"] if with_api else [])
    assert sorted(profiles, key=str) == sorted([None, *namespaces], key=str)
    assert result.exports["project_profiles"] == {
        f"shop/{ns.removeprefix('shop-')}": profiles[ns]["href"] for ns in namespaces
    }
    assert profiles["shop-db"]["enforcement_mode"] == db_mode
    href = {(lb["key"], lb["value"]): h for h, lb in emu.labels.items()}
    web_rules = {entry["key"]: entry for entry in profiles["shop-web"]["labels"]}
    assert web_rules["app"]["assignment"]["href"] == href[("app", "shop-web")]
    assert web_rules["env"]["assignment"]["href"] == href[("env", "e2e")]
    assert sorted(r["href"] for r in web_rules["role"]["restriction"]) == sorted(
        [href[("role", "web")], href[("role", "worker")]]
    )
    assert_policy_is_active(emu, namespaces, href)


def assert_policy_is_active(
    emu: PceEmulator, namespaces: list[str], href: dict[tuple[str, str], str]
) -> None:
    """Each project's rule set is active, scoped to its own identity, with its intra-project
    and DNS rules; nothing of the stack is left pending."""
    with emu.lock:
        pending = emu.policy.pending_hrefs()
        active = {o["name"]: o for o in emu.policy.active["rule_sets"].values()}
    assert all(not hrefs for hrefs in pending.values()), pending
    assert sorted(active) == sorted(f"tenantguard-{CLUSTER}-{ns}" for ns in namespaces)
    for namespace in namespaces:
        rule_set = active[f"tenantguard-{CLUSTER}-{namespace}"]
        (scope,) = rule_set["scopes"]
        assert {ref["label"]["href"] for ref in scope} == {
            href[("app", namespace)],
            href[("env", "e2e")],
            href[("loc", "lab")],
        }
        ports = {
            (service.get("proto"), service.get("port"))
            for rule in rule_set["rules"]
            for service in rule["ingress_services"]
        }
        assert {(17, 53), (6, 53)} <= ports, "the project can resolve names"


def test_first_up_creates_exactly_the_objects_the_spec_implies(emu, engine, spec_dir) -> None:
    emu.reset_counts()
    planned = engine.preview(program(spec_dir))
    assert emu.count() == 0, "a preview makes no PCE request"
    assert planned.count("Create") == 0 and len(engine.state) == 0

    result = engine.up(program(spec_dir))

    assert_pce_holds_the_spec(emu, result)
    assert request_counts(emu) == {
        "cluster GET": 1,
        "cluster POST": 1,
        "pairing_profile POST": 1,
        "pairing_key POST": 1,
        "label GET": 1,  # one read of every label ...
        "label POST": 6,  # ... and each created unless it exists (loc=lab does)
        "profile GET": 1,  # one read of the cluster's profiles (has Kubelink made any?)
        "profile POST": 2,
        "ip_list GET": 1,  # one read of the IP lists: the DNS list is not there ...
        "ip_list POST": 1,
        "rule_set GET": 1,  # ... one of the rule sets: nor is either project's ...
        "rule_set POST": 2,
        "rule POST": 4,  # ... with its intra-project and DNS rules ...
        "pending GET": 1,  # ... and one provision of exactly the stack's own changes
        "dependencies POST": 1,
        "policy_version POST": 1,
    }
    # cluster, pairing profile + key, 7 labels, 2 profiles, an IP list, 2 rule sets, the
    # provision and the teardown (no request of its own)
    assert result.count("Create") == 17


def test_second_up_makes_no_pce_request_and_changes_nothing(emu, engine, spec_dir) -> None:
    engine.up(program(spec_dir))
    emu.reset_counts()

    result = engine.up(program(spec_dir))

    assert emu.count() == 0, request_counts(emu)
    assert result.changed() == []
    assert set(result.methods()) == {"Configure", "Check", "Diff"}


def test_refresh_reads_back_what_up_stored_and_changes_nothing(emu, engine, spec_dir) -> None:
    engine.up(program(spec_dir))
    emu.reset_counts()

    engine.refresh()
    assert request_counts(emu) == {
        "cluster GET": 1,
        "label GET": 1,  # one collection read serves every label ...
        "pairing_profile GET": 1,  # ... the pairing profile and the key ...
        "profile GET": 1,  # ... and every workload profile of the cluster
        "rule_set GET": 1,  # ... every rule set, rules embedded ...
        "ip_list GET": 1,  # ... every IP list ...
        "pending GET": 1,  # ... and whether any of the stack's changes is still pending
    }

    emu.reset_counts()
    assert engine.up(program(spec_dir)).changed() == []
    assert emu.count() == 0, "what refresh read matches what up wants: no perpetual diff"


def test_spec_changes_touch_only_what_changed_and_destroy_cleans_the_pce(
    emu, engine, spec_dir
) -> None:
    engine.up(program(spec_dir))

    emu.reset_counts()
    write_spec(spec_dir, db_mode="visibility_only")
    mode = engine.up(program(spec_dir))
    assert mode.ops("update") == ["platform-shop-db-profile"]
    assert request_counts(emu) == {"profile PUT": 1}

    emu.reset_counts()
    write_spec(spec_dir, db_mode="visibility_only", with_api=True)
    added = engine.up(program(spec_dir))
    # the new project's labels, profile and rule set; the provision takes in the rule set,
    # the teardown its name
    assert added.count("Create") == 4 and added.count("Update") == 2
    assert added.count("Delete") == 0
    dynamic_created = [s.name for s in added.steps if s.op == "create" and "dynamic" in s.type]
    assert sorted(dynamic_created) == [
        "label-app-shop-api",
        "label-role-api",
        "platform-segmentation-rules-shop-api",
        "platform-shop-api-profile",
    ]
    assert all(
        "shop-api" in s.name
        or s.name
        in ("label-role-api", "platform-segmentation-provision", "platform-segmentation-teardown")
        for s in added.changed()
    )
    assert request_counts(emu) == {
        "label GET": 1,  # the labels are read: role=api and app=shop-api are new ...
        "label POST": 2,  # ... so they are created (role=web is shared)
        "profile GET": 1,
        "profile POST": 1,
        "rule_set GET": 1,  # the rule sets are read; the project's, its two rules ...
        "rule_set POST": 1,
        "rule POST": 2,
        "pending GET": 1,  # ... provisioned alone: the other rule sets did not change
        "dependencies POST": 1,
        "policy_version POST": 1,
    }
    assert_pce_holds_the_spec(emu, added, db_mode="visibility_only", with_api=True)

    emu.reset_counts()
    write_spec(spec_dir, db_mode="visibility_only")
    removed = engine.up(program(spec_dir))
    assert sorted(s.name for s in removed.steps if s.op == "delete" and "dynamic" in s.type) == [
        "label-app-shop-api",
        "label-role-api",
        "platform-segmentation-rules-shop-api",
        "platform-shop-api-profile",
    ]
    assert request_counts(emu) == {
        "rule_set DELETE": 1,  # the rule set goes first and provisions its own deletion ...
        "pending GET": 1,
        "dependencies POST": 1,
        "policy_version POST": 1,
        "profile DELETE": 1,  # ... then the profile and the labels no one else uses
        "label DELETE": 2,
    }
    assert_pce_holds_the_spec(emu, removed, db_mode="visibility_only")

    emu.reset_counts()
    engine.destroy()
    assert len(engine.state) == 0
    assert emu.clusters == {} and emu.profiles == {} and emu.pairing_profiles == {}
    assert [(lb["key"], lb["value"]) for lb in emu.labels.values()] == [("loc", "lab")]
    with emu.lock:
        assert all(not hrefs for hrefs in emu.policy.pending_hrefs().values())
        for kind in ("rule_sets", "ip_lists"):
            for state in (emu.policy.draft, emu.policy.active):
                left = [o["name"] for o in state[kind].values()]
                assert not [n for n in left if n.startswith("tenantguard-")], (kind, left)
    versions = len(emu.policy.versions)
    assert request_counts(emu) == {
        "rule_set GET": 1,  # the teardown finds the policy objects by name ...
        "ip_list GET": 1,
        "rule_set DELETE": 2,  # ... deletes them (they are deleted with it) ...
        "ip_list DELETE": 1,
        "pending GET": 1,  # ... and provisions the deletions as one version ...
        "dependencies POST": 1,
        "policy_version POST": 1,
        "profile DELETE": 2,  # ... before the profiles and labels they name go
        "label DELETE": 6,  # all but loc=lab, which this stack only used
        "pairing_profile DELETE": 1,
        "cluster DELETE": 1,
    }
    assert versions == 4, "first up, the new project, its removal, the destroy"
    deletes = [r for r in emu.requests if r.method == "DELETE"]
    assert all(r.status == 204 for r in deletes), "no refused or failed delete"


def test_secrets_never_reach_pickles_state_or_plain_outputs(emu, engine, spec_dir) -> None:
    result = engine.up(program(spec_dir))
    state = engine.state
    [cluster] = state.of_type("illumio:ContainerCluster")
    [key] = state.of_type("illumio:PairingKey")
    token = cluster.plain_outputs["container_cluster_token"]
    code = key.plain_outputs["activation_code"]
    sa_token = "fake-token-shop-web-deployer"  # what the stand-in's token controller issued

    for resource in state.dynamic():
        for pickle in resource.provider_pickles():
            assert emu.api_secret.encode() not in pickle, resource.urn
    plaintext = state.plaintext()
    for secret in (emu.api_secret, token, code, VAULT_TOKEN, KUBECONFIG, sa_token):
        assert secret not in plaintext
    assert base64.b64encode(sa_token.encode()).decode() not in plaintext

    kubeconfigs = result.exports["project_kubeconfigs"]
    assert sa_token in kubeconfigs["shop/web"]["deployer"], "kubeconfigs carry the SA token"
    assert {"cluster_token", "project_kubeconfigs"} <= result.secret_exports
    assert result.exports["cluster_token"] == emu.cluster_token(cluster.id)
    assert "cluster_href" not in result.secret_exports
