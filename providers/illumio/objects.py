"""The per-object PCE calls: container clusters, workload profiles, labels, pairing
profiles and keys, service backends.

Each call checks the href it is given against the object's shape before anything is
sent, validates the answer into its model, and filters collections exactly (the PCE's
query filters are partial matches).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from providers.illumio.collection_reads import CollectionReads
from providers.illumio.errors import ClusterOperationError, IllumioError, LabelOperationError
from providers.illumio.limits import MAX_NAME
from providers.illumio.models import (
    ClusterRecord,
    LabelRecord,
    PairingProfileRecord,
    ServiceBackend,
    WorkloadProfileRecord,
)

_CLUSTER_HREF = re.compile(r"^/orgs/\d+/container_clusters/[^/]+$")
_PROFILE_HREF = re.compile(
    r"^/orgs/\d+/container_clusters/[^/]+/container_workload_profiles/[^/]+$"
)
_LABEL_HREF = re.compile(r"^/orgs/\d+/labels/[^/]+$")
_PAIRING_HREF = re.compile(r"^/orgs/\d+/pairing_profiles/[^/]+$")


class ObjectCalls(CollectionReads):
    """Typed calls for each kind of PCE object tenantguard manages."""

    # -- container clusters -----------------------------------------------------

    def list_container_clusters(self, name: str | None = None) -> list[ClusterRecord]:
        """All container clusters, or those whose name is exactly `name`."""
        href = f"{self.org_href}/container_clusters"
        params = {"name": name} if name is not None else None
        records = self._models(
            ClusterRecord, self.get_collection(href, params), href, ClusterOperationError
        )
        return [r for r in records if name is None or r.name == name]

    def get_container_cluster(self, href: str) -> ClusterRecord:
        """One cluster (never carries the token). PceNotFoundError when it is gone."""
        _require(
            href, _CLUSTER_HREF, "a container cluster href (/orgs/<id>/container_clusters/<uuid>)"
        )
        return self._model(ClusterRecord, self.get(href), "GET", href, ClusterOperationError)

    def create_container_cluster(self, name: str, description: str | None = None) -> ClusterRecord:
        """Create a cluster; the result is the only place its `container_cluster_token` appears."""
        if not name or len(name) > MAX_NAME:
            raise ValueError(f"a container cluster name must be 1 to {MAX_NAME} characters")
        href = f"{self.org_href}/container_clusters"
        data = self.post(href, {"name": name, "description": description or ""})
        record = self._model(ClusterRecord, data, "POST", href, ClusterOperationError)
        if record.container_cluster_token is None:
            raise ClusterOperationError(
                f"the PCE created container cluster {record.href} but returned no "
                "container_cluster_token",
                method="POST",
                href=href,
                hint="without the token the cluster can never be paired: delete it and create "
                "it again",
            )
        return record

    def update_container_cluster(self, href: str, body: Mapping[str, Any]) -> None:
        _require(href, _CLUSTER_HREF, "a container cluster href")
        self.put(href, dict(body))

    def delete_container_cluster(self, href: str) -> None:
        _require(href, _CLUSTER_HREF, "a container cluster href")
        self.delete(href)

    # -- container workload profiles --------------------------------------------

    def list_workload_profiles(
        self, cluster_href: str, namespace: str | None = None
    ) -> list[WorkloadProfileRecord]:
        """A cluster's profiles, or the one(s) whose namespace is exactly `namespace`."""
        _require(cluster_href, _CLUSTER_HREF, "a container cluster href")
        href = f"{cluster_href}/container_workload_profiles"
        params = {"namespace": namespace} if namespace is not None else None
        records = self._models(WorkloadProfileRecord, self.get_collection(href, params), href)
        return [r for r in records if namespace is None or r.namespace == namespace]

    def get_workload_profile(self, href: str) -> WorkloadProfileRecord:
        _require(href, _PROFILE_HREF, "a container workload profile href")
        return self._model(WorkloadProfileRecord, self.get(href), "GET", href)

    def create_workload_profile(
        self, cluster_href: str, body: Mapping[str, Any]
    ) -> WorkloadProfileRecord:
        _require(cluster_href, _CLUSTER_HREF, "a container cluster href")
        href = f"{cluster_href}/container_workload_profiles"
        return self._model(WorkloadProfileRecord, self.post(href, dict(body)), "POST", href)

    def update_workload_profile(self, href: str, body: Mapping[str, Any]) -> None:
        _require(href, _PROFILE_HREF, "a container workload profile href")
        self.put(href, dict(body))

    def delete_workload_profile(self, href: str) -> None:
        _require(href, _PROFILE_HREF, "a container workload profile href")
        self.delete(href)

    # -- labels -------------------------------------------------------------------

    def find_labels(self, key: str, value: str | None = None) -> list[LabelRecord]:
        """Labels with exactly this key (and value): the PCE's value filter is partial."""
        href = f"{self.org_href}/labels"
        params = {"key": key} if value is None else {"key": key, "value": value}
        records = self._models(
            LabelRecord, self.get_collection(href, params), href, LabelOperationError
        )
        return [r for r in records if r.key == key and (value is None or r.value == value)]

    def list_labels(self) -> list[LabelRecord]:
        """Every label of the org (one collection read; an async job above 500)."""
        href = f"{self.org_href}/labels"
        return self._models(LabelRecord, self.get_collection(href), href, LabelOperationError)

    def get_label(self, href: str) -> LabelRecord:
        _require(href, _LABEL_HREF, "a label href (/orgs/<id>/labels/<id>)")
        return self._model(LabelRecord, self.get(href), "GET", href, LabelOperationError)

    def create_label(self, key: str, value: str) -> LabelRecord:
        """Create a label. A duplicate key/value raises PceConflictError: look it up instead."""
        href = f"{self.org_href}/labels"
        data = self.post(href, {"key": key, "value": value})
        return self._model(LabelRecord, data, "POST", href, LabelOperationError)

    def delete_label(self, href: str) -> None:
        """Delete a label; one still in use raises PceConflictError."""
        _require(href, _LABEL_HREF, "a label href")
        self.delete(href)

    # -- pairing profiles and keys ---------------------------------------------

    def list_pairing_profiles(self, name: str | None = None) -> list[PairingProfileRecord]:
        href = f"{self.org_href}/pairing_profiles"
        params = {"name": name} if name is not None else None
        records = self._models(PairingProfileRecord, self.get_collection(href, params), href)
        return [r for r in records if name is None or r.name == name]

    def get_pairing_profile(self, href: str) -> PairingProfileRecord:
        _require(href, _PAIRING_HREF, "a pairing profile href")
        return self._model(PairingProfileRecord, self.get(href), "GET", href)

    def create_pairing_profile(self, body: Mapping[str, Any]) -> PairingProfileRecord:
        href = f"{self.org_href}/pairing_profiles"
        return self._model(PairingProfileRecord, self.post(href, dict(body)), "POST", href)

    def update_pairing_profile(self, href: str, body: Mapping[str, Any]) -> None:
        _require(href, _PAIRING_HREF, "a pairing profile href")
        self.put(href, dict(body))

    def delete_pairing_profile(self, href: str) -> None:
        _require(href, _PAIRING_HREF, "a pairing profile href")
        self.delete(href)

    def create_pairing_key(self, profile_href: str) -> str:
        """Issue a new pairing key (activation code); it cannot be read back later."""
        _require(profile_href, _PAIRING_HREF, "a pairing profile href")
        href = f"{profile_href}/pairing_key"
        code = self.post(href, {}).get("activation_code")
        if not isinstance(code, str) or not code:
            raise IllumioError(
                "the PCE answered without an activation_code", method="POST", href=href
            )
        return code

    # -- service backends -------------------------------------------------------

    def list_service_backends(self, cluster_href: str) -> list[ServiceBackend]:
        _require(cluster_href, _CLUSTER_HREF, "a container cluster href")
        href = f"{cluster_href}/service_backends"
        return self._models(ServiceBackend, self.get_collection(href), href)


def _require(href: str, pattern: re.Pattern[str], what: str) -> None:
    if not isinstance(href, str) or not pattern.match(href):
        raise ValueError(f"expected {what}, got {href!r}")
