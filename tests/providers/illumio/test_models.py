"""PCE models accept the recorded response shapes (Illumio's container-cluster API chapter,
22.2), including the line-broken hrefs of the documented examples, and ignore new fields."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from providers.illumio.models import (
    AsyncJob,
    ClusterRecord,
    LabelRecord,
    PairingProfileRecord,
    ProfileLabel,
    ServiceBackend,
    WorkloadProfileRecord,
)

# Recorded examples, kept as the documentation prints them (hrefs broken across lines).
CLUSTERS_GET = """[
  {
   "href":"/orgs/1/container_clusters/445bfa9b-4de4-4c09-
\t\t9705-496eb04b190f",
\t"pce_fqdn":null,
\t"name":"k8s2",
\t"description":"",
\t"manager_type":"Kubernetes v1.16.2",
\t"last_connected":"2019-10-28T22:48:31.228Z",
\t"kubelink_version":"2.0.0-master.96e58b",
\t"online":true,
\t"nodes": [
        {"name":"node1", "pod_subnet":"10.233.64.0/24"},
        {"name":"node2", "pod_subnet":"10.233.65.0/24"},
        {"name":"node3", "pod_subnet":"10.233.66.0/24"}
       ],
\t"errors":[]
  },
  {
   "href":"/orgs/1/container_clusters/d7d62400-7650-
\t\t4407-ae9b-71803dbb1324",
\t"pce_fqdn":null,
\t"name":"k8s1 v4",
\t"description":"",
\t"manager_type":"Kubernetes v1.12.4",
\t"last_connected":"2019-10-24T23:58:55.795Z",
\t"kubelink_version":"EYE-61567",
\t"online":false,
\t"nodes": [{"name":"k8s1master", "pod_subnet":"10.244.0.0/24"}],
\t "errors":[]
  }
]"""

CLUSTER_POST = """{
\t"href": "/orgs/1/container_clusters/1b851d4b-f22d-
\t\t47be-b744-f3c2dca490a0",
\t\t"pce_fqdn": null,
\t\t"name": "test",
\t\t"description": "test",
\t\t"manager_type": null,
\t\t"last_connected": null,
\t\t"kubelink_version": null,
\t\t"online": false,
\t\t"nodes": [],
\t\t"errors": [],
\t\t"container_cluster_token":
\t\t"1_0dfec0acb8e4bc53e052874874da0c24e7ac98da3b3954e3c9ea6f9860722e84"
}"""
TOKEN = "1_0dfec0acb8e4bc53e052874874da0c24e7ac98da3b3954e3c9ea6f9860722e84"

PROFILES_GET = """[
\t{
\t\t"href": "/orgs/10/container_clusters/
\t\t\t974aec34-e8e7-478d-9ca2-90ebb3642edc/container_
\t\t\tworkload_profiles/5454cc84-d6be-4e6c-ac62-465f9504fac0",
\t\t"namespace": "openshift-host-network",
\t\t"enforcement_mode": "visibility_only",
\t\t"visibility_level": "flow_summary",
\t\t"managed": true,
\t\t"assign_labels": [
\t\t\t{"href": "/orgs/10/labels/128"},
\t\t\t{"href": "/orgs/10/labels/225"}
\t\t],
\t\t"labels": [
\t\t\t{"key": "loc", "assignment": {"href": "/orgs/10/labels/128", "value": "AWS"}},
\t\t\t{"key": "env", "assignment": {"href": "/orgs/10/labels/225", "value": "OCP4.6"}}
\t\t],
\t\t"linked": true,
\t\t"created_at": "2021-08-25T18:11:52.665Z",
\t\t"created_by": {
\t\t\t\t"href": "/orgs/10/container_clusters/
\t\t\t974aec34-e8e7-478d-9ca2-90ebb3642edc"
\t\t},
\t\t"updated_at": "2021-08-25T18:11:52.665Z",
\t\t"updated_by": {
\t\t\t\t"href": "/orgs/10/container_clusters/
\t\t\t974aec34-e8e7-478d-9ca2-90ebb3642edc"
\t\t}
\t}
]"""

LABEL_RULES = """{
\t"labels": [
\t\t{"key": "role", "assign": {} },
\t\t{"key": "app", "restriction": [] },
\t\t{"key": "env", "restriction": [{"href": "/orgs/1/labels/176"},
\t\t\t{"href": "/orgs/1/labels/302"}, {"href": "/orgs/1/labels/303"}] },
\t\t{"key": "loc", "assign": {"href": "/orgs/1/labels/221"} }
\t]
}"""

SERVICE_BACKENDS_GET = """[
\t{
\t\t"name": "58687784f9",
\t\t"kind": "replicasethash",
\t\t"namespace": "kube-system",
\t\t"updated_at": "2020-10-25T20:07:39.741Z",
\t\t"created_at": "2020-10-25T20:07:39.741Z",
\t\t"virtual_service": {
\t\t"href": "/orgs/1/sec_policy/draft/virtual_services/
\t\t\t926c2f63-bcd8-42f1-8811-165b34f84334",
\t\t"name": "coredns-k8s2-kube-system"
\t\t}
\t},
\t{
\t\t"name": "556b9ff8f8",
\t\t"kind": "replicasethash",
\t\t"namespace": "kube-system",
\t\t"updated_at": "2020-10-25T20:07:39.768Z",
\t\t"created_at": "2020-10-25T20:07:39.768Z",
\t\t"virtual_service": {
\t\t"href": "/orgs/1/sec_policy/draft/virtual_services/
\t\t\t58b0df03-1151-464e-8352-069e3ad0d7ed",
\t\t"name": "kubernetes-dashboard-k8s2-kube-system"
\t\t}
\t}
]"""


def recorded(text: str):
    """Parse a recorded example; the line breaks inside its strings need strict=False."""
    return json.loads(text, strict=False)


def test_cluster_list_parses_with_clean_hrefs_and_nodes():
    clusters = [ClusterRecord.model_validate(c) for c in recorded(CLUSTERS_GET)]
    first, second = clusters
    assert first.href == "/orgs/1/container_clusters/445bfa9b-4de4-4c09-9705-496eb04b190f"
    assert first.cluster_id == "445bfa9b-4de4-4c09-9705-496eb04b190f"
    assert first.online is True and second.online is False
    assert first.manager_type == "Kubernetes v1.16.2"
    assert first.kubelink_version == "2.0.0-master.96e58b"
    assert [n.pod_subnet for n in first.nodes] == [
        "10.233.64.0/24",
        "10.233.65.0/24",
        "10.233.66.0/24",
    ]
    assert first.description == "" and first.pce_fqdn is None
    assert first.container_cluster_token is None  # GET never carries it


def test_cluster_create_response_keeps_the_token_secret():
    cluster = ClusterRecord.model_validate(recorded(CLUSTER_POST))
    assert cluster.href == "/orgs/1/container_clusters/1b851d4b-f22d-47be-b744-f3c2dca490a0"
    assert cluster.container_cluster_token is not None
    assert cluster.container_cluster_token.get_secret_value() == TOKEN
    assert cluster.last_connected is None and cluster.nodes == []
    for text in (repr(cluster), str(cluster), cluster.model_dump_json()):
        assert TOKEN not in text


def test_cluster_errors_entries_are_typed():
    cluster = ClusterRecord.model_validate(
        {
            "href": "/orgs/1/container_clusters/c1",
            "name": "k",
            "errors": [
                {
                    "audit_event": {"href": "/orgs/1/events/42"},
                    "duplicate_ids": ["m1", "m2"],
                    "error_type": "container_cluster.duplicate_machine_id",
                }
            ],
        }
    )
    (entry,) = cluster.errors
    assert entry.audit_event is not None and entry.audit_event.href == "/orgs/1/events/42"
    assert entry.duplicate_ids == ["m1", "m2"]
    assert entry.error_type == "container_cluster.duplicate_machine_id"


def test_workload_profile_parses_assignments_and_created_by():
    (profile,) = [WorkloadProfileRecord.model_validate(p) for p in recorded(PROFILES_GET)]
    cluster = "/orgs/10/container_clusters/974aec34-e8e7-478d-9ca2-90ebb3642edc"
    assert (
        profile.href
        == f"{cluster}/container_workload_profiles/5454cc84-d6be-4e6c-ac62-465f9504fac0"
    )
    assert profile.cluster_href == cluster
    assert profile.created_by is not None and profile.created_by.href == cluster
    assert profile.namespace == "openshift-host-network"
    assert (profile.managed, profile.linked) == (True, True)
    assert [ref.href for ref in profile.assign_labels] == [
        "/orgs/10/labels/128",
        "/orgs/10/labels/225",
    ]
    assert profile.assigned_labels() == {"loc": "/orgs/10/labels/128", "env": "/orgs/10/labels/225"}
    assert profile.labels[0].assignment is not None
    assert profile.labels[0].assignment.value == "AWS"
    assert profile.label_restrictions() == {}


def test_label_rules_in_every_documented_shape():
    profile = WorkloadProfileRecord.model_validate(
        {
            "href": "/orgs/1/container_clusters/c/container_workload_profiles/p",
            **recorded(LABEL_RULES),
        }
    )
    assert profile.assigned_labels() == {"role": None, "loc": "/orgs/1/labels/221"}
    assert profile.label_restrictions() == {
        "app": [],
        "env": ["/orgs/1/labels/176", "/orgs/1/labels/302", "/orgs/1/labels/303"],
    }


def test_a_single_restriction_object_becomes_a_one_item_allow_list():
    rule = ProfileLabel.model_validate(
        {"key": "loc", "restriction": {"href": "/orgs/1/labels/221"}}
    )
    assert rule.restriction is not None
    assert [r.href for r in rule.restriction] == ["/orgs/1/labels/221"]


def test_default_profile_without_namespace_and_null_lists():
    profile = WorkloadProfileRecord.model_validate(
        {
            "href": "/orgs/1/container_clusters/c/container_workload_profiles/d",
            "name": "Default Profile",
            "namespace": None,
            "enforcement_mode": "idle",
            "managed": False,
            "assign_labels": None,
            "labels": None,
        }
    )
    assert profile.namespace is None and profile.labels == [] and profile.assign_labels == []


def test_service_backends_parse_with_virtual_service():
    backends = [ServiceBackend.model_validate(b) for b in recorded(SERVICE_BACKENDS_GET)]
    assert [b.name for b in backends] == ["58687784f9", "556b9ff8f8"]
    first = backends[0]
    assert (first.kind, first.namespace) == ("replicasethash", "kube-system")
    assert first.created_at == "2020-10-25T20:07:39.741Z"
    assert first.virtual_service is not None
    assert first.virtual_service.name == "coredns-k8s2-kube-system"
    assert first.virtual_service.href == (
        "/orgs/1/sec_policy/draft/virtual_services/926c2f63-bcd8-42f1-8811-165b34f84334"
    )


def test_service_backend_accepts_the_tables_plural_field_name():
    backend = ServiceBackend.model_validate(
        {"name": "n", "kind": "Deployment", "virtual_services": {"href": "/orgs/1/x", "name": "v"}}
    )
    assert backend.virtual_service is not None and backend.virtual_service.name == "v"


def test_label_and_pairing_profile_ignore_unknown_fields():
    label = LabelRecord.model_validate(
        {"href": "/orgs/1/labels/7", "key": "env", "value": "prod", "new_in_24_2": {"x": 1},
         "created_by": {"href": "/users/1"}}
    )  # fmt: skip
    assert (label.key, label.value, label.label_id) == ("env", "prod", "7")
    pairing = PairingProfileRecord.model_validate(
        {"href": "/orgs/1/pairing_profiles/3", "name": "k8s", "enabled": False,
         "labels": [{"href": "/orgs/1/labels/7"}], "allowed_uses_per_key": "unlimited",
         "key_lifespan": "unlimited", "agent_software_release": "default"}
    )  # fmt: skip
    assert pairing.enabled is False
    assert [ref.href for ref in pairing.labels] == ["/orgs/1/labels/7"]


def test_required_fields_are_required():
    with pytest.raises(ValidationError):
        LabelRecord.model_validate({"href": "/orgs/1/labels/7", "key": "env"})
    with pytest.raises(ValidationError):
        ClusterRecord.model_validate({"name": "no href"})


def test_async_job_result_shapes():
    done = AsyncJob.model_validate(
        {"href": "/orgs/1/jobs/j", "status": "done", "result": {"href": "/orgs/1/datafiles/d"}}
    )
    assert done.done and done.result_href == "/orgs/1/datafiles/d"
    traffic = AsyncJob.model_validate({"status": "completed", "result": "/orgs/1/datafiles/t"})
    assert traffic.done and traffic.result_href == "/orgs/1/datafiles/t"
    failed = AsyncJob.model_validate({"status": "failed", "result": {"message": "disk full"}})
    assert failed.failed and failed.result_message == "disk full" and failed.result_href is None
    running = AsyncJob.model_validate({"status": "running"})
    assert not running.done and not running.failed
