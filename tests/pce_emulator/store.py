"""The emulated PCE's objects and the rules the real PCE enforces on them.

State is kept as the JSON the PCE returns (`clusters`, `profiles`, `labels`,
`pairing_profiles`: href -> object; `service_backends`: cluster href -> list), so tests
can read it directly. Callers hold the emulator's lock around every method.

Modelling choices, where the documents leave room:
- Cluster names are not unique (the PCE allows duplicates; clients must guard).
- `enforcement_mode: selective` is accepted on profiles: the PCE accepts it even though
  container workloads do not support it (seed 002); refusing it is the client's job.
- Label keys: role, app, env, loc always exist; other keys are refused (406) unless
  defined with `define_label_key` (standing in for PCE label types).
- A profile's `namespace` may be repeated unchanged in a PUT; a different value is 406.
- The cluster's namespace-less "Default Profile" cannot be deleted (406).
- Query filters `name`, `namespace`, label `value` are partial and case-insensitive;
  label `key` and the profile's enum/bool filters are exact. Unknown query
  parameters are refused (406 invalid_argument).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from typing import Any

from . import payloads as p
from .errors import (
    ALREADY_DELETED,
    DEFAULT_PROFILE_UNDELETABLE,
    LABEL_DUPLICATE,
    LABEL_IN_USE,
    PAIRING_PROFILE_DISABLED,
    PROFILE_NAMESPACE_EXISTS,
    ApiError,
    invalid,
    not_found,
)
from .jobs import JobBoard, now_iso
from .policy import PolicyStore
from .replies import Reply, no_content

SYNC_LIMIT = 500
BUILTIN_LABEL_KEYS = ("role", "app", "env", "loc")
USER_REF = {"href": "/users/1"}

CLUSTER_WRITABLE = ("name", "description")
PROFILE_WRITABLE = (
    "name",
    "description",
    "namespace",
    "enforcement_mode",
    "visibility_level",
    "managed",
    "log_traffic",
    "labels",
    "assign_labels",
)
LABEL_WRITABLE = ("key", "value", "external_data_set", "external_data_reference")
PAIRING_WRITABLE = (
    "name",
    "description",
    "enabled",
    "enforcement_mode",
    "visibility_level",
    "labels",
    "allowed_uses_per_key",
    "key_lifespan",
    "log_traffic",
    "enforcement_mode_lock",
    "visibility_level_lock",
    "log_traffic_lock",
    "role_label_lock",
    "app_label_lock",
    "env_label_lock",
    "loc_label_lock",
    "external_data_set",
    "external_data_reference",
)


class PceStore:
    """Objects of one org and the PCE's rules for creating, changing and deleting them."""

    def __init__(self, org_id: int, *, job_retry_after: int = 0, job_running_polls: int = 1):
        self.org_id = org_id
        self.org_href = f"/orgs/{org_id}"
        self.clusters: dict[str, dict[str, Any]] = {}
        self.profiles: dict[str, dict[str, Any]] = {}
        self.labels: dict[str, dict[str, Any]] = {}
        self.pairing_profiles: dict[str, dict[str, Any]] = {}
        self.service_backends: dict[str, list[dict[str, Any]]] = {}
        self.cluster_tokens: dict[str, str] = {}
        self.activation_codes: dict[str, list[str]] = {}
        self.external_label_refs: dict[str, int] = {}
        self.deleted_labels: set[str] = set()
        self.label_keys: set[str] = set(BUILTIN_LABEL_KEYS)
        self.jobs = JobBoard(
            self.org_href, retry_after=job_retry_after, running_polls=job_running_polls
        )
        self._profile_rules: dict[str, list[p.LabelEntry]] = {}
        self._next_label_id = 1
        self._next_pairing_id = 1
        self.policy = PolicyStore(self)

    # ----------------------------------------------------------------- collections
    def _collection(
        self,
        job_type: str,
        collection_href: str,
        items: list[dict[str, Any]],
        query: dict[str, str],
        prefer_async: bool,
    ) -> Reply:
        """Sync: at most 500 (or max_results) items + X-Total-Count; async: a job."""
        total = len(items)
        limit = min(int(query.get("max_results", SYNC_LIMIT)), SYNC_LIMIT)
        if prefer_async:
            if "max_results" in query:
                items = items[: int(query["max_results"])]
            return self.jobs.submit(job_type, collection_href, items)
        return Reply(200, [dict(item) for item in items[:limit]], {"X-Total-Count": str(total)})

    # ----------------------------------------------------------------- clusters
    def _cluster(self, href: str) -> dict[str, Any]:
        cluster = self.clusters.get(href)
        if cluster is None:
            raise not_found(href)
        return cluster

    def list_clusters(self, raw_query: str, prefer_async: bool) -> Reply:
        """GET container_clusters (filter `name`, partial)."""
        query = p.parse_query(raw_query, ("name",), "container_clusters")
        items = [c for c in self.clusters.values() if p.partial_match(query.get("name"), c["name"])]
        href = f"{self.org_href}/container_clusters"
        return self._collection("container_clusters", href, items, query, prefer_async)

    def get_cluster(self, href: str) -> Reply:
        """GET one cluster (never carries the token)."""
        return Reply(200, dict(self._cluster(href)))

    def create_cluster(self, body: Any) -> Reply:
        """POST container_clusters: 201 with the one-time `container_cluster_token`."""
        body = p.require_object(body, CLUSTER_WRITABLE, "container cluster")
        name = p.string_field(body, "name", required=True)
        description = p.string_field(body, "description", max_len=4096) or ""
        href = f"{self.org_href}/container_clusters/{uuid.uuid4()}"
        cluster = {
            "href": href,
            "pce_fqdn": None,
            "name": name,
            "description": description,
            "manager_type": None,
            "last_connected": None,
            "kubelink_version": None,
            "online": False,
            "nodes": [],
            "container_runtime": None,
            "errors": [],
            "caps": ["write"],
        }
        token = "1_" + secrets.token_hex(32)
        self.clusters[href] = cluster
        self.cluster_tokens[href] = token
        self.service_backends[href] = []
        self._insert_profile(
            href,
            {
                "name": "Default Profile",
                "description": "",
                "namespace": None,
                "enforcement_mode": "idle",
                "visibility_level": "flow_summary",
                "managed": False,
                "log_traffic": False,
                "linked": False,
            },
            [],
            created_by={"href": href},
        )
        return Reply(201, {**cluster, "container_cluster_token": token})

    def update_cluster(self, href: str, body: Any) -> Reply:
        """PUT a cluster: name/description only, 204."""
        cluster = self._cluster(href)
        body = p.require_object(body, CLUSTER_WRITABLE, "container cluster")
        name = p.string_field(body, "name", allow_empty=False)
        description = p.string_field(body, "description", max_len=4096)
        if name is not None:
            cluster["name"] = name
        if description is not None:
            cluster["description"] = description
        return no_content()

    def delete_cluster(self, href: str) -> Reply:
        """DELETE a cluster with its profiles and service backends."""
        self._cluster(href)
        for profile_href in [h for h in self.profiles if h.startswith(href + "/")]:
            self.profiles.pop(profile_href)
            self._profile_rules.pop(profile_href, None)
        self.service_backends.pop(href, None)
        self.cluster_tokens.pop(href, None)
        del self.clusters[href]
        return no_content()

    def set_cluster_online(
        self,
        href: str,
        *,
        online: bool,
        kubelink_version: str | None,
        manager_type: str | None,
        nodes: list[dict[str, Any]] | None,
    ) -> None:
        """What Kubelink's heartbeat changes on the cluster object."""
        cluster = self._cluster(href)
        cluster["online"] = online
        if online:
            cluster["last_connected"] = now_iso()
            cluster["kubelink_version"] = kubelink_version
            cluster["manager_type"] = manager_type
            cluster["container_runtime"] = "containerd"
        if nodes is not None:
            cluster["nodes"] = [dict(node) for node in nodes]

    # ----------------------------------------------------------------- labels
    def _label(self, href: str) -> dict[str, Any]:
        label = self.labels.get(href)
        if label is None:
            raise not_found(href)
        return label

    def list_labels(self, raw_query: str, prefer_async: bool) -> Reply:
        """GET labels (filters: `key` exact, `value` partial)."""
        query = p.parse_query(raw_query, ("key", "value"), "labels")
        items = [
            label
            for label in self.labels.values()
            if ("key" not in query or label["key"] == query["key"])
            and p.partial_match(query.get("value"), label["value"])
        ]
        return self._collection("labels", f"{self.org_href}/labels", items, query, prefer_async)

    def get_label(self, href: str) -> Reply:
        """GET one label."""
        return Reply(200, dict(self._label(href)))

    def create_label(self, body: Any) -> Reply:
        """POST labels: 201, or 406 for a bad key or a duplicate key+value."""
        body = p.require_object(body, LABEL_WRITABLE, "label")
        key = p.string_field(body, "key", required=True, max_len=p.MAX_LABEL_KEY)
        value = p.string_field(body, "value", required=True, max_len=p.MAX_LABEL_VALUE)
        assert key is not None and value is not None
        if key not in self.label_keys:
            raise invalid(f"key {key!r} has no label type; defined keys: {sorted(self.label_keys)}")
        extra = {
            name: p.string_field(body, name, nullable=True)
            for name in ("external_data_set", "external_data_reference")
            if name in body
        }
        return Reply(201, dict(self.insert_label(key, value, extra)))

    def _refuse_duplicate_label(self, key: str, value: str) -> None:
        """406 label_duplicate when a label with this key and value already exists."""
        for label in self.labels.values():
            if label["key"] == key and label["value"] == value:
                raise ApiError(
                    406,
                    LABEL_DUPLICATE,
                    f"A label with key {key!r} and value {value!r} already exists: {label['href']}",
                )

    def insert_label(
        self, key: str, value: str, extra: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Add a label, refusing a duplicate key+value."""
        self._refuse_duplicate_label(key, value)
        href = f"{self.org_href}/labels/{self._next_label_id}"
        self._next_label_id += 1
        stamp = now_iso()
        label = {
            "href": href,
            "key": key,
            "value": value,
            "created_at": stamp,
            "updated_at": stamp,
            "created_by": dict(USER_REF),
            "updated_by": dict(USER_REF),
            **(extra or {}),
        }
        self.labels[href] = label
        return label

    def update_label(self, href: str, body: Any) -> Reply:
        """PUT a label: only `value` (and external data) may change; 204."""
        label = self._label(href)
        body = p.require_object(
            body, ("value", "external_data_set", "external_data_reference"), "label"
        )
        value = p.string_field(body, "value", max_len=p.MAX_LABEL_VALUE, allow_empty=False)
        if value is not None and value != label["value"]:
            self._refuse_duplicate_label(label["key"], value)
            label["value"] = value
        for name in ("external_data_set", "external_data_reference"):
            if name in body:
                label[name] = p.string_field(body, name, nullable=True)
        label["updated_at"] = now_iso()
        self._rerender_profiles()
        return no_content()

    def label_users(self, href: str) -> list[str]:
        """Hrefs (or markers) of everything that references the label."""
        users = [
            profile_href
            for profile_href, rules in self._profile_rules.items()
            if any(href in rule.hrefs for rule in rules)
        ]
        users += [
            pp_href
            for pp_href, pp in self.pairing_profiles.items()
            if any(ref["href"] == href for ref in pp["labels"])
        ]
        users += self.policy.label_users(href)
        users += ["(external reference)"] * self.external_label_refs.get(href, 0)
        return users

    def delete_label(self, href: str) -> Reply:
        """DELETE a label: 406 while anything references it, or when already deleted."""
        if href in self.deleted_labels:
            raise ApiError(406, ALREADY_DELETED, f"Label {href} has already been deleted")
        self._label(href)
        users = self.label_users(href)
        if users:
            raise ApiError(
                406,
                LABEL_IN_USE,
                f"Label {href} is in use and cannot be deleted (referenced by {users[:5]})",
            )
        del self.labels[href]
        self.external_label_refs.pop(href, None)
        self.deleted_labels.add(href)
        return no_content()

    # ----------------------------------------------------------------- profiles
    def _profile(self, href: str) -> dict[str, Any]:
        profile = self.profiles.get(href)
        if profile is None:
            raise not_found(href)
        return profile

    def _check_label_rules(self, rules: list[p.LabelEntry]) -> list[p.LabelEntry]:
        """Referenced labels must exist and carry the entry's key; fills keys for
        `assign_labels` entries and refuses two assignments for one key."""
        checked: list[p.LabelEntry] = []
        keys: set[str] = set()
        for rule in rules:
            for href in rule.hrefs:
                label = self.labels.get(href)
                if label is None:
                    raise invalid(f"label {href} does not exist")
                if rule.key and label["key"] != rule.key:
                    raise invalid(f"label {href} has key {label['key']!r}, not {rule.key!r}")
            key = rule.key or self.labels[rule.hrefs[0]]["key"]
            if key not in self.label_keys and all(lb["key"] != key for lb in self.labels.values()):
                raise invalid(f"label key {key!r} is not defined in the PCE")
            if key in keys:
                raise invalid(f"more than one label rule for key {key!r}")
            keys.add(key)
            checked.append(p.LabelEntry(key, rule.mode, rule.hrefs))
        return checked

    def _render_labels(self, rules: list[p.LabelEntry]) -> dict[str, Any]:
        labels: list[dict[str, Any]] = []
        assign: list[dict[str, str]] = []
        for rule in rules:
            if rule.mode == "assignment":
                href = rule.hrefs[0]
                value = self.labels[href]["value"] if href in self.labels else None
                labels.append({"key": rule.key, "assignment": {"href": href, "value": value}})
                assign.append({"href": href})
            elif rule.mode == "restriction":
                labels.append(
                    {
                        "key": rule.key,
                        "restriction": [
                            {"href": h, "value": self.labels.get(h, {}).get("value")}
                            for h in rule.hrefs
                        ],
                    }
                )
            else:
                labels.append({"key": rule.key})
        return {"labels": labels, "assign_labels": assign}

    def _rerender_profiles(self) -> None:
        for href, rules in self._profile_rules.items():
            self.profiles[href].update(self._render_labels(rules))

    def _insert_profile(
        self,
        cluster_href: str,
        fields: dict[str, Any],
        rules: list[p.LabelEntry],
        *,
        created_by: dict[str, str],
    ) -> str:
        href = f"{cluster_href}/container_workload_profiles/{uuid.uuid4()}"
        stamp = now_iso()
        profile: dict[str, Any] = {"href": href}
        for name in ("name", "description"):
            if fields.get(name) is not None:
                profile[name] = fields[name]
        profile.update(
            {
                "namespace": fields["namespace"],
                "enforcement_mode": fields["enforcement_mode"],
                "visibility_level": fields["visibility_level"],
                "managed": fields["managed"],
                "log_traffic": fields["log_traffic"],
                "linked": fields["linked"],
                **self._render_labels(rules),
                "created_at": stamp,
                "created_by": dict(created_by),
                "updated_at": stamp,
                "updated_by": dict(created_by),
            }
        )
        self.profiles[href] = profile
        self._profile_rules[href] = rules
        return href

    def _profiles_of(self, cluster_href: str) -> list[dict[str, Any]]:
        prefix = cluster_href + "/container_workload_profiles/"
        return [pr for href, pr in self.profiles.items() if href.startswith(prefix)]

    def list_profiles(self, cluster_href: str, raw_query: str, prefer_async: bool) -> Reply:
        """GET a cluster's profiles (filters: name/namespace partial, enums/bools exact)."""
        self._cluster(cluster_href)
        query = p.parse_query(
            raw_query,
            ("name", "namespace", "enforcement_mode", "visibility_level", "managed", "linked"),
            "container_workload_profiles",
        )
        managed = p.bool_query(query, "managed")
        linked = p.bool_query(query, "linked")
        items = [
            pr
            for pr in self._profiles_of(cluster_href)
            if p.partial_match(query.get("name"), pr.get("name"))
            and p.partial_match(query.get("namespace"), pr["namespace"])
            and query.get("enforcement_mode", pr["enforcement_mode"]) == pr["enforcement_mode"]
            and query.get("visibility_level", pr["visibility_level"]) == pr["visibility_level"]
            and (managed is None or pr["managed"] == managed)
            and (linked is None or pr["linked"] == linked)
        ]
        href = f"{cluster_href}/container_workload_profiles"
        return self._collection("container_workload_profiles", href, items, query, prefer_async)

    def get_profile(self, href: str) -> Reply:
        """GET one profile."""
        return Reply(200, dict(self._profile(href)))

    @staticmethod
    def _check_managed_mode(managed: bool, mode: str) -> None:
        if managed and mode == "idle":
            raise invalid("a managed container workload profile cannot have enforcement_mode idle")

    def create_profile(self, cluster_href: str, body: Any) -> Reply:
        """POST a profile: 406 for a namespace that already has one, managed+idle, bad
        labels; 201 with the profile."""
        self._cluster(cluster_href)
        body = p.require_object(body, PROFILE_WRITABLE, "container workload profile")
        name = p.string_field(body, "name", nullable=True)
        description = p.string_field(body, "description", nullable=True, max_len=4096)
        namespace = p.string_field(body, "namespace", nullable=True, allow_empty=False)
        mode = p.enum_field(body, "enforcement_mode", p.ENFORCEMENT_MODES) or "idle"
        visibility = p.enum_field(body, "visibility_level", p.VISIBILITY_LEVELS) or "flow_summary"
        managed = p.bool_field(body, "managed")
        managed = False if managed is None else managed
        log_traffic = bool(p.bool_field(body, "log_traffic"))
        rules = self._check_label_rules(p.profile_labels(body) or [])
        self._check_managed_mode(managed, mode)
        for existing in self._profiles_of(cluster_href):
            if existing["namespace"] == namespace:
                raise ApiError(
                    406,
                    PROFILE_NAMESPACE_EXISTS,
                    f"A container workload profile for namespace {namespace!r} already "
                    f"exists: {existing['href']}",
                )
        href = self._insert_profile(
            cluster_href,
            {
                "name": name,
                "description": description,
                "namespace": namespace,
                "enforcement_mode": mode,
                "visibility_level": visibility,
                "managed": managed,
                "log_traffic": log_traffic,
                "linked": False,
            },
            rules,
            created_by=USER_REF,
        )
        return Reply(201, dict(self.profiles[href]))

    def update_profile(self, href: str, body: Any) -> Reply:
        """PUT a profile: partial update, 204; `namespace` cannot change (406)."""
        profile = self._profile(href)
        body = p.require_object(body, PROFILE_WRITABLE, "container workload profile")
        if "namespace" in body and body["namespace"] != profile["namespace"]:
            raise invalid("namespace cannot be changed after the profile is created")
        changes: dict[str, Any] = {}
        for name in ("name", "description"):
            if name in body:
                changes[name] = p.string_field(body, name, nullable=True, max_len=4096)
        if "enforcement_mode" in body:
            changes["enforcement_mode"] = p.enum_field(
                body, "enforcement_mode", p.ENFORCEMENT_MODES
            )
        if "visibility_level" in body:
            changes["visibility_level"] = p.enum_field(
                body, "visibility_level", p.VISIBILITY_LEVELS
            )
        for name in ("managed", "log_traffic"):
            if name in body:
                changes[name] = p.bool_field(body, name)
        parsed_rules = p.profile_labels(body)
        rules = self._check_label_rules(parsed_rules) if parsed_rules is not None else None
        self._check_managed_mode(
            changes.get("managed", profile["managed"]),
            changes.get("enforcement_mode", profile["enforcement_mode"]),
        )
        for name, value in changes.items():
            if name in ("name", "description") and value is None:
                profile.pop(name, None)
            else:
                profile[name] = value
        if rules is not None:
            self._profile_rules[href] = rules
            profile.update(self._render_labels(rules))
        profile["updated_at"] = now_iso()
        profile["updated_by"] = dict(USER_REF)
        return no_content()

    def delete_profile(self, href: str) -> Reply:
        """DELETE a profile (not the cluster's namespace-less default)."""
        profile = self._profile(href)
        if profile["namespace"] is None:
            raise ApiError(
                406,
                DEFAULT_PROFILE_UNDELETABLE,
                "The default container workload profile of a cluster cannot be deleted",
            )
        del self.profiles[href]
        self._profile_rules.pop(href, None)
        return no_content()

    def kubelink_report(self, cluster_href: str, namespaces: Iterable[str]) -> list[str]:
        """Kubelink reported these namespaces: link existing profiles, create unmanaged
        ones for the rest; returns the hrefs created."""
        self._cluster(cluster_href)
        by_namespace = {pr["namespace"]: pr for pr in self._profiles_of(cluster_href)}
        created: list[str] = []
        for namespace in namespaces:
            existing = by_namespace.get(namespace)
            if existing is not None:
                existing["linked"] = True
                continue
            href = self._insert_profile(
                cluster_href,
                {
                    "namespace": namespace,
                    "enforcement_mode": "idle",
                    "visibility_level": "flow_summary",
                    "managed": False,
                    "log_traffic": False,
                    "linked": True,
                },
                [],
                created_by={"href": cluster_href},
            )
            by_namespace[namespace] = self.profiles[href]
            created.append(href)
        return created

    # ----------------------------------------------------------------- pairing profiles
    def _pairing(self, href: str) -> dict[str, Any]:
        profile = self.pairing_profiles.get(href)
        if profile is None:
            raise not_found(href)
        return profile

    def _pairing_fields(self, body: dict[str, Any]) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        if "name" in body:
            fields["name"] = p.string_field(body, "name", required=True)
        if "description" in body:
            fields["description"] = p.string_field(body, "description", max_len=4096) or ""
        if "enforcement_mode" in body:
            fields["enforcement_mode"] = p.enum_field(body, "enforcement_mode", p.ENFORCEMENT_MODES)
        if "visibility_level" in body:
            fields["visibility_level"] = p.enum_field(body, "visibility_level", p.VISIBILITY_LEVELS)
        for name in (
            "enabled",
            "log_traffic",
            "enforcement_mode_lock",
            "visibility_level_lock",
            "log_traffic_lock",
            "role_label_lock",
            "app_label_lock",
            "env_label_lock",
            "loc_label_lock",
        ):
            if name in body:
                fields[name] = p.bool_field(body, name)
        for name in ("allowed_uses_per_key", "key_lifespan"):
            if name in body:
                value = body[name]
                if value != "unlimited" and not (
                    isinstance(value, int) and not isinstance(value, bool) and value > 0
                ):
                    raise invalid(f"{name} must be 'unlimited' or a positive integer")
                fields[name] = value
        for name in ("external_data_set", "external_data_reference"):
            if name in body:
                fields[name] = p.string_field(body, name, nullable=True)
        hrefs = p.pairing_labels(body)
        if hrefs is not None:
            keys: set[str] = set()
            for href in hrefs:
                label = self.labels.get(href)
                if label is None:
                    raise invalid(f"label {href} does not exist")
                if label["key"] in keys:
                    raise invalid(f"more than one label with key {label['key']!r}")
                keys.add(label["key"])
            fields["labels"] = [{"href": href} for href in hrefs]
        return fields

    def list_pairing_profiles(self, raw_query: str, prefer_async: bool) -> Reply:
        """GET pairing_profiles (filter `name`, partial)."""
        query = p.parse_query(raw_query, ("name",), "pairing_profiles")
        items = [
            pp
            for pp in self.pairing_profiles.values()
            if p.partial_match(query.get("name"), pp["name"])
        ]
        href = f"{self.org_href}/pairing_profiles"
        return self._collection("pairing_profiles", href, items, query, prefer_async)

    def get_pairing_profile(self, href: str) -> Reply:
        """GET one pairing profile."""
        return Reply(200, dict(self._pairing(href)))

    def create_pairing_profile(self, body: Any) -> Reply:
        """POST pairing_profiles: 201 with the profile."""
        body = p.require_object(body, PAIRING_WRITABLE, "pairing profile")
        if "name" not in body:
            raise invalid("name is required")
        fields = self._pairing_fields(body)
        href = f"{self.org_href}/pairing_profiles/{self._next_pairing_id}"
        self._next_pairing_id += 1
        stamp = now_iso()
        profile: dict[str, Any] = {
            "href": href,
            "name": fields.pop("name"),
            "description": "",
            "enabled": True,
            "is_default": False,
            "enforcement_mode": "visibility_only",
            "visibility_level": "flow_summary",
            "allowed_uses_per_key": "unlimited",
            "key_lifespan": "unlimited",
            "total_use_count": 0,
            "last_pairing_at": None,
            "log_traffic": False,
            "enforcement_mode_lock": True,
            "visibility_level_lock": True,
            "log_traffic_lock": True,
            "role_label_lock": True,
            "app_label_lock": True,
            "env_label_lock": True,
            "loc_label_lock": True,
            "labels": [],
            "created_at": stamp,
            "updated_at": stamp,
            "created_by": dict(USER_REF),
            "updated_by": dict(USER_REF),
        }
        profile.update(fields)
        self.pairing_profiles[href] = profile
        self.activation_codes[href] = []
        return Reply(201, dict(profile))

    def update_pairing_profile(self, href: str, body: Any) -> Reply:
        """PUT a pairing profile: partial update, 204."""
        profile = self._pairing(href)
        body = p.require_object(body, PAIRING_WRITABLE, "pairing profile")
        profile.update(self._pairing_fields(body))
        profile["updated_at"] = now_iso()
        return no_content()

    def delete_pairing_profile(self, href: str) -> Reply:
        """DELETE a pairing profile, 204."""
        self._pairing(href)
        del self.pairing_profiles[href]
        self.activation_codes.pop(href, None)
        return no_content()

    def create_pairing_key(self, href: str, body: Any) -> Reply:
        """POST {profile}/pairing_key with {}: a new activation code every call."""
        profile = self._pairing(href)
        p.require_object(body, (), "pairing key")
        if not profile["enabled"]:
            raise ApiError(406, PAIRING_PROFILE_DISABLED, f"Pairing profile {href} is disabled")
        code = secrets.token_hex(32)
        self.activation_codes[href].append(code)
        return Reply(201, {"activation_code": code})

    # ----------------------------------------------------------------- service backends
    def list_service_backends(self, cluster_href: str, raw_query: str, prefer_async: bool) -> Reply:
        """GET a cluster's service backends (read-only, fed by Kubelink)."""
        self._cluster(cluster_href)
        query = p.parse_query(raw_query, (), "service_backends")
        items = self.service_backends.get(cluster_href, [])
        href = f"{cluster_href}/service_backends"
        return self._collection("service_backends", href, items, query, prefer_async)

    def add_service_backend(
        self, cluster_href: str, name: str, kind: str, namespace: str, virtual_service_name: str
    ) -> dict[str, Any]:
        """What Kubelink reports for a Kubernetes service backend."""
        self._cluster(cluster_href)
        stamp = now_iso()
        backend = {
            "name": name,
            "kind": kind,
            "namespace": namespace,
            "updated_at": stamp,
            "created_at": stamp,
            "virtual_service": {
                "href": f"{self.org_href}/sec_policy/draft/virtual_services/{uuid.uuid4()}",
                "name": virtual_service_name,
            },
        }
        self.service_backends.setdefault(cluster_href, []).append(backend)
        return backend
