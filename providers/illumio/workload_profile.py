"""ContainerWorkloadProfile: the Illumio policy profile of one Kubernetes namespace.

Kubelink makes an unmanaged profile for every namespace it sees, so create adopts
the existing profile of the namespace with one PUT instead of failing on a
duplicate. Namespace and cluster cannot change in place (replace); everything else
is a PUT. Label mappings are marshalled by `profile_payload`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi.dynamic

from providers.illumio import snapshots
from providers.illumio.limits import enforcement_problem, name_problem, visibility_problem
from providers.illumio.profile_payload import (
    check_label_mappings,
    check_managed_idle,
    check_namespace,
    normal_assign,
    normal_restrictions,
    to_pce_labels,
)
from providers.illumio.provider_base import (
    IllumioProvider,
    changed_keys,
    create_attempts,
    is_unknown,
    plain_props,
    provider_client,
)

if TYPE_CHECKING:
    from providers.illumio.models import WorkloadProfileRecord

REPLACE_KEYS = ("container_cluster_href", "namespace")
UPDATE_KEYS = (
    "name",
    "description",
    "enforcement_mode",
    "visibility_level",
    "managed",
    "log_traffic",
    "assign_labels",
    "label_restrictions",
)
DEFAULTS: dict[str, Any] = {
    "description": "",
    "enforcement_mode": "visibility_only",
    "visibility_level": "flow_summary",
    "managed": True,
    "log_traffic": False,
    "assign_labels": {},
    "label_restrictions": {},
}


def normal_inputs(props: Mapping[str, Any]) -> dict[str, Any]:
    """Inputs with defaults filled in and label mappings in comparable form (no HTTP)."""
    out = {k: v for k, v in props.items() if k != "__provider"}
    for key, default in DEFAULTS.items():
        if out.get(key) is None:
            out[key] = default
    if out.get("name") in (None, "") and not is_unknown(out.get("namespace")):
        out["name"] = out.get("namespace")
    if not is_unknown(out["assign_labels"]):
        out["assign_labels"] = normal_assign(out["assign_labels"])
    if not is_unknown(out["label_restrictions"]):
        out["label_restrictions"] = normal_restrictions(out["label_restrictions"])
    return out


def profile_body(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The PUT/POST body for a profile's updatable fields."""
    return {
        "name": inputs["name"],
        "description": inputs["description"],
        "enforcement_mode": inputs["enforcement_mode"],
        "visibility_level": inputs["visibility_level"],
        "managed": bool(inputs["managed"]),
        "log_traffic": bool(inputs["log_traffic"]),
        "labels": to_pce_labels(inputs["assign_labels"], inputs["label_restrictions"]),
    }


def _outputs(inputs: Mapping[str, Any], href: str, linked: Any) -> dict[str, Any]:
    outs = {k: inputs.get(k) for k in (*REPLACE_KEYS, *UPDATE_KEYS)}
    outs["href"] = href
    outs["linked"] = bool(linked)
    return outs


def live_outputs(record: WorkloadProfileRecord) -> dict[str, Any]:
    """Outputs from a profile as the PCE returns it, label mappings in input form."""
    return {
        "href": record.href,
        "container_cluster_href": record.cluster_href,
        "namespace": record.namespace,
        "name": record.name,
        "description": record.description or "",
        "enforcement_mode": record.enforcement_mode,
        "visibility_level": record.visibility_level,
        "managed": record.managed,
        "log_traffic": bool(record.log_traffic),
        "assign_labels": normal_assign(record.assigned_labels()),
        "label_restrictions": normal_restrictions(record.label_restrictions()),
        "linked": bool(record.linked),
    }


class ContainerWorkloadProfileProvider(IllumioProvider):
    """CRUD for `<cluster href>/container_workload_profiles`, adopting Kubelink's profiles."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        """Refuse bad input before anything is made, naming the property (no HTTP)."""
        failures: list[pulumi.dynamic.CheckFailure] = []

        def fail(prop: str, reason: str | None) -> None:
            if reason:
                failures.append(pulumi.dynamic.CheckFailure(prop, reason))

        inputs = normal_inputs(plain_props(news))
        cluster = inputs.get("container_cluster_href")
        if not is_unknown(cluster) and (not isinstance(cluster, str) or not cluster):
            fail("container_cluster_href", "container_cluster_href: required, a cluster href")
        namespace = inputs.get("namespace")
        if not is_unknown(namespace):
            fail("namespace", check_namespace(namespace))
        # An empty name defaults to the namespace: only a given name's length matters.
        fail("name", name_problem(inputs.get("name"), required=False))
        mode = inputs["enforcement_mode"]
        if not is_unknown(mode):
            fail("enforcement_mode", enforcement_problem(mode))
        level = inputs["visibility_level"]
        if not is_unknown(level):
            fail("visibility_level", visibility_problem(level))
        managed = inputs["managed"]
        if not is_unknown(managed) and not isinstance(managed, bool):
            fail("managed", "managed: must be true or false")
        if not is_unknown(managed) and not is_unknown(mode):
            fail("enforcement_mode", check_managed_idle(managed, mode))
        if not is_unknown(inputs["log_traffic"]) and not isinstance(inputs["log_traffic"], bool):
            fail("log_traffic", "log_traffic: must be true or false")
        assign, restrictions = news.get("assign_labels"), news.get("label_restrictions")
        if not is_unknown(assign) and not is_unknown(restrictions):
            for prop, reason in check_label_mappings(assign, restrictions):
                fail(prop, reason)
        return pulumi.dynamic.CheckResult(news, failures)

    def diff(
        self, _id: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.DiffResult:
        """Cluster or namespace changes replace; other input changes update in place."""
        old = normal_inputs(plain_props(olds))
        new = normal_inputs(plain_props(news))
        replace_changed, replace_unknown = changed_keys(old, new, REPLACE_KEYS)
        changed, unknown = changed_keys(old, new, UPDATE_KEYS)
        replaces = replace_changed + replace_unknown
        return pulumi.dynamic.DiffResult(
            changes=bool(replaces or changed or unknown), replaces=replaces
        )

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        """Adopt the namespace's existing profile with one PUT, or POST a new one.

        The first look is in the cluster's snapshot (one collection read per cluster and
        operation); a refused duplicate or a POST whose outcome is unknown is followed by a
        fresh lookup GET before anything else is sent, so Kubelink's profile (or the one our
        lost POST made) is adopted and never duplicated.
        """
        from providers.illumio.errors import (
            PceConflictError,
            PceNotFoundError,
            PceOutcomeUnknownError,
        )

        inputs = normal_inputs(plain_props(props))
        cluster, namespace = str(inputs["container_cluster_href"]), str(inputs["namespace"])
        body = profile_body(inputs)
        client = provider_client()
        last_error: Exception | None = None
        attempts = create_attempts()
        for attempt in range(attempts):
            existing = _find(cluster, namespace, fresh=attempt > 0)
            if existing is not None:
                try:
                    client.update_workload_profile(existing.href, body)
                except PceNotFoundError as error:
                    # Deleted since it was read: look again (fresh) and create or adopt.
                    snapshots.deleted(client, "profiles", existing.href)
                    last_error = error
                    continue
                snapshots.changed(client, "profiles", existing.href)
                outs = _outputs(inputs, existing.href, existing.linked)
                return pulumi.dynamic.CreateResult(existing.href, outs)
            try:
                record = client.create_workload_profile(cluster, {**body, "namespace": namespace})
            except (PceConflictError, PceOutcomeUnknownError) as error:
                # Kubelink (or our own lost POST) made it meanwhile: look again and adopt.
                last_error = error
                continue
            snapshots.created(client, "profiles", record)
            return pulumi.dynamic.CreateResult(
                record.href, _outputs(inputs, record.href, record.linked)
            )
        raise RuntimeError(
            f"namespace: could not create or find the workload profile for {namespace!r} in "
            f"{cluster} after {attempts} attempts"
        ) from last_error

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        """The live profile, or an empty id when it is gone: from the cluster's snapshot when
        there is one (`snapshots`), else (or for a profile changed since) one GET."""

        client = provider_client()
        record = snapshots.read_through(
            client,
            "profiles",
            snapshots.profiles(client, snapshots.cluster_of(id_)),
            id_,
            client.get_workload_profile,
        )
        if record is None:
            return pulumi.dynamic.ReadResult("", {})
        return pulumi.dynamic.ReadResult(id_, live_outputs(record))

    def update(
        self, id_: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.UpdateResult:
        """One PUT with the updatable fields; returns the full outputs."""
        old = plain_props(olds)
        inputs = normal_inputs(plain_props(news))
        client = provider_client()
        client.update_workload_profile(id_, profile_body(inputs))
        snapshots.changed(client, "profiles", id_)
        return pulumi.dynamic.UpdateResult(_outputs(inputs, id_, old.get("linked")))

    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        """Delete the profile; already gone (404) is success."""
        from providers.illumio.errors import PceNotFoundError

        client = provider_client()
        with contextlib.suppress(PceNotFoundError):
            client.delete_workload_profile(id_)
        snapshots.deleted(client, "profiles", id_)


def _find(cluster_href: str, namespace: str, *, fresh: bool) -> WorkloadProfileRecord | None:
    """The cluster's profile for exactly this namespace, or None: from the cluster's snapshot
    unless `fresh` (or there is none), else one filtered GET."""
    client = provider_client()
    snapshot = None if fresh else snapshots.profiles(client, cluster_href)
    if snapshot is not None:
        found = snapshot.find(lambda r: r.namespace == namespace)
    else:
        found = client.list_workload_profiles(cluster_href, namespace)
    return next(iter(found), None)


class ContainerWorkloadProfile(
    pulumi.dynamic.Resource, module="illumio", name="ContainerWorkloadProfile"
):
    """The profile of one namespace in a container cluster.

    `assign_labels` maps a label key to a label href; None means explicitly no
    label for that key (stored as "" in state and outputs). `label_restrictions`
    maps a key to the label hrefs pods may choose; [] means any value.
    """

    href: pulumi.Output[str]
    linked: pulumi.Output[bool]
    container_cluster_href: pulumi.Output[str]
    namespace: pulumi.Output[str]
    name: pulumi.Output[str]
    description: pulumi.Output[str]
    enforcement_mode: pulumi.Output[str]
    visibility_level: pulumi.Output[str]
    managed: pulumi.Output[bool]
    log_traffic: pulumi.Output[bool]
    assign_labels: pulumi.Output[dict[str, str]]
    label_restrictions: pulumi.Output[dict[str, list[str]]]

    def __init__(
        self,
        resource_name: str,
        *,
        container_cluster_href: pulumi.Input[str],
        namespace: pulumi.Input[str],
        name: pulumi.Input[str] | None = None,
        description: pulumi.Input[str] | None = None,
        enforcement_mode: pulumi.Input[str] = "visibility_only",
        visibility_level: pulumi.Input[str] = "flow_summary",
        managed: pulumi.Input[bool] = True,
        assign_labels: pulumi.Input[Mapping[str, pulumi.Input[str | None]]] | None = None,
        label_restrictions: pulumi.Input[Mapping[str, pulumi.Input[list[pulumi.Input[str]]]]]
        | None = None,
        log_traffic: pulumi.Input[bool] = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            "container_cluster_href": container_cluster_href,
            "namespace": namespace,
            "name": name,
            "description": description,
            "enforcement_mode": enforcement_mode,
            "visibility_level": visibility_level,
            "managed": managed,
            "log_traffic": log_traffic,
            "assign_labels": pulumi.Output.from_input(assign_labels or {}).apply(normal_assign),
            "label_restrictions": pulumi.Output.from_input(label_restrictions or {}).apply(
                normal_restrictions
            ),
            "href": None,
            "linked": None,
        }
        super().__init__(ContainerWorkloadProfileProvider(), resource_name, props, opts)
