"""The PCE's draft/active security policy: rule sets with rules, IP lists, pending changes,
dependencies, provisioning a change subset, and policy versions.

State: `draft[kind]` and `active[kind]` (kind `rule_sets` or `ip_lists`) map an object's
DRAFT href to its JSON; a rule set embeds its `rules`. The active copy is what was last
provisioned; GETs under `/sec_policy/active/...` show it with `/active/` hrefs.

Modelling choices, where the facts (`pce-policy-facts.md`) leave room:
- An object is pending when draft and active differ: `create` (draft only), `update`,
  `delete` (active only: deleted in draft). GET of a draft object carries `update_type`
  (null when not pending); a draft object pending deletion answers 404 and is absent from
  draft collections. A PUT that makes the draft equal to active again leaves nothing pending.
- Rule changes are changes of their rule set (provisioned with it, by the rule set's href).
- Names are unique among draft objects of a kind (406 `name_duplicate` otherwise).
- Provisioning refuses (406) a subset entry that is not exactly `{href}`, an href with no
  pending change, and a subset that is not self-contained: a rule set referring to an IP
  list that exists only in draft needs it, and an IP list's deletion needs the change of
  every active rule set still referring to it. `POST .../draft/dependencies` lists what to
  add. Without `change_subset` everything pending is provisioned, as the real PCE does.
- An IP list referenced by a draft rule set cannot be deleted (406 `ip_list_in_use`); nor
  can the built-in "Any (0.0.0.0/0 and ::/0)" list. A label used by a draft or active rule
  set is in use (see `PceStore.label_users`). Scopes may not use `role` labels.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from . import policy_payloads as pp
from .errors import ApiError, invalid, not_found
from .jobs import now_iso
from .payloads import parse_query, partial_match, require_object, string_field
from .replies import Reply, no_content

if TYPE_CHECKING:
    from .store import PceStore

KINDS = ("rule_sets", "ip_lists")
ANY_IP_LIST = "Any (0.0.0.0/0 and ::/0)"
USER_REF = {"href": "/users/1"}
_META = ("href", "update_type", "created_at", "updated_at", "created_by", "updated_by")
MISSING_DEPENDENCIES = "provision_missing_dependencies"
NOTHING_PENDING = "provision_nothing_pending"


def _content(obj: dict[str, Any]) -> dict[str, Any]:
    """What provisioning compares: the fields, rules included, without timestamps."""
    out = {k: v for k, v in obj.items() if k not in _META}
    if "rules" in out:
        out["rules"] = [{k: v for k, v in r.items() if k not in _META} for r in out["rules"]]
    return out


def _as_active(obj: dict[str, Any]) -> dict[str, Any]:
    shown = copy.deepcopy(obj)
    shown.pop("update_type", None)
    shown["href"] = shown["href"].replace("/draft/", "/active/")
    for rule in shown.get("rules", []):
        rule["href"] = rule["href"].replace("/draft/", "/active/")
    return shown


class PolicyStore:
    """One org's security policy. Callers hold the emulator's lock."""

    def __init__(self, store: PceStore) -> None:
        self.store = store
        self.base = f"{store.org_href}/sec_policy"
        self.draft: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in KINDS}
        self.active: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in KINDS}
        self.versions: list[dict[str, Any]] = []
        self._next = {"rule_sets": 1, "ip_lists": 1, "sec_rules": 1}
        builtin = self._new("ip_lists", {"name": ANY_IP_LIST, "description": ""})
        builtin["ip_ranges"] = [
            {"from_ip": "0.0.0.0/0", "exclusion": False},
            {"from_ip": "::/0", "exclusion": False},
        ]
        self.any_ip_list = builtin["href"]
        self.active["ip_lists"][builtin["href"]] = copy.deepcopy(builtin)

    # ----------------------------------------------------------------- views for tests
    def update_type(self, kind: str, href: str) -> str | None:
        """`create`, `update`, `delete` or None (not pending)."""
        draft, active = self.draft[kind].get(href), self.active[kind].get(href)
        if draft is None:
            return "delete" if active is not None else None
        if active is None:
            return "create"
        return "update" if _content(draft) != _content(active) else None

    def pending_hrefs(self) -> dict[str, dict[str, str]]:
        """kind -> {draft href: update_type} of everything pending."""
        found: dict[str, dict[str, str]] = {}
        for kind in KINDS:
            for href in sorted(set(self.draft[kind]) | set(self.active[kind])):
                change = self.update_type(kind, href)
                if change:
                    found.setdefault(kind, {})[href] = change
        return found

    def label_users(self, href: str) -> list[str]:
        """Rule sets (draft or active) whose scopes or rules use the label."""
        users = []
        for versions in (self.draft["rule_sets"], self.active["rule_sets"]):
            for rs_href, rule_set in versions.items():
                if href in self._refs(rule_set).labels and rs_href not in users:
                    users.append(rs_href)
        return users

    # ----------------------------------------------------------------- plumbing
    def _new(self, kind: str, fields: dict[str, Any]) -> dict[str, Any]:
        href = f"{self.base}/draft/{kind}/{self._next[kind]}"
        self._next[kind] += 1
        stamp = now_iso()
        obj = {"href": href, **fields, "created_at": stamp, "updated_at": stamp}
        obj.update(created_by=dict(USER_REF), updated_by=dict(USER_REF))
        if kind == "rule_sets":
            obj.setdefault("description", "")
            obj.setdefault("enabled", True)
            obj.setdefault("scopes", [])
            obj["rules"] = []
        else:
            obj.setdefault("description", "")
            obj.setdefault("ip_ranges", [])
            obj.setdefault("fqdns", [])
        self.draft[kind][href] = obj
        return obj

    def _show(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        return {**copy.deepcopy(obj), "update_type": self.update_type(kind, obj["href"])}

    def _get(self, kind: str, href: str) -> dict[str, Any]:
        obj = self.draft[kind].get(href)
        if obj is None:
            raise not_found(href)
        return obj

    def _refs(self, rule_set: dict[str, Any]) -> pp.Refs:
        refs = pp.Refs()
        for scope in rule_set.get("scopes", []):
            for entry in scope:
                if "label" in entry:
                    refs.labels.add(entry["label"]["href"])
        for rule in rule_set.get("rules", []):
            for actor in [*rule["providers"], *rule["consumers"]]:
                if "label" in actor:
                    refs.labels.add(actor["label"]["href"])
                elif "ip_list" in actor:
                    refs.ip_lists.add(actor["ip_list"]["href"])
        return refs

    def _check_refs(self, refs: pp.Refs, *, scopes: bool = False) -> None:
        for href in sorted(refs.labels):
            label = self.store.labels.get(href)
            if label is None:
                raise invalid(f"label {href} does not exist")
            if scopes and label["key"] == "role":
                raise invalid(f"scopes may not use role labels ({href})")
        for href in sorted(refs.ip_lists):
            if href not in self.draft["ip_lists"]:
                raise invalid(f"ip_list {href} does not exist in draft")

    def _unique_name(self, kind: str, name: str, href: str | None = None) -> None:
        for other in self.draft[kind].values():
            if other["name"] == name and other["href"] != href:
                raise ApiError(
                    406, "name_duplicate", f"{kind[:-1]} name {name!r} is taken: {other['href']}"
                )

    # ----------------------------------------------------------------- rule sets, IP lists
    def list_objects(self, kind: str, state: str, raw_query: str, prefer_async: bool) -> Reply:
        """GET draft or active rule_sets / ip_lists (filter `name`, partial)."""
        query = parse_query(raw_query, ("name",), kind)
        if state == "draft":
            items = [self._show(kind, o) for o in self.draft[kind].values()]
        else:
            items = [_as_active(o) for o in self.active[kind].values()]
        items = [o for o in items if partial_match(query.get("name"), o["name"])]
        href = f"{self.base}/{state}/{kind}"
        return self.store._collection(kind, href, items, query, prefer_async)

    def get_object(self, kind: str, state: str, href: str) -> Reply:
        """GET one draft (with `update_type`) or active object."""
        if state == "draft":
            return Reply(200, self._show(kind, self._get(kind, href)))
        active = self.active[kind].get(href.replace("/active/", "/draft/"))
        if active is None:
            raise not_found(href)
        return Reply(200, _as_active(active))

    def create_object(self, kind: str, body: Any) -> Reply:
        """POST a draft rule set or IP list: 201, pending `create` until provisioned."""
        if kind == "rule_sets":
            fields, refs = pp.rule_set_body(body, creating=True)
            self._check_refs(refs, scopes=True)
        else:
            fields = pp.ip_list_body(body, creating=True)
        self._unique_name(kind, fields["name"])
        return Reply(201, self._show(kind, self._new(kind, fields)))

    def update_object(self, kind: str, href: str, body: Any) -> Reply:
        """PUT a draft object (partial update): 204."""
        obj = self._get(kind, href)
        if kind == "rule_sets":
            fields, refs = pp.rule_set_body(body, creating=False)
            self._check_refs(refs, scopes=True)
        else:
            fields = pp.ip_list_body(body, creating=False)
        if "name" in fields:
            self._unique_name(kind, fields["name"], href)
        obj.update(fields, updated_at=now_iso())
        return no_content()

    def delete_object(self, kind: str, href: str) -> Reply:
        """DELETE in draft: gone at once if never provisioned, else pending `delete`."""
        self._get(kind, href)
        if kind == "ip_lists":
            if href == self.any_ip_list:
                raise invalid(f"the built-in IP list {ANY_IP_LIST!r} cannot be deleted")
            users = [
                rs
                for rs, obj in self.draft["rule_sets"].items()
                if href in self._refs(obj).ip_lists
            ]
            if users:
                raise ApiError(406, "ip_list_in_use", f"ip_list {href} is used by {users[:5]}")
        del self.draft[kind][href]
        return no_content()

    # ----------------------------------------------------------------- rules
    def _rule(self, href: str) -> tuple[dict[str, Any], dict[str, Any]]:
        rs_href = href.split("/sec_rules/", 1)[0]
        rule_set = self._get("rule_sets", rs_href)
        for rule in rule_set["rules"]:
            if rule["href"] == href:
                return rule_set, rule
        raise not_found(href)

    def list_rules(self, rs_href: str) -> Reply:
        """GET a draft rule set's rules."""
        return Reply(200, copy.deepcopy(self._get("rule_sets", rs_href)["rules"]))

    def get_rule(self, href: str) -> Reply:
        return Reply(200, copy.deepcopy(self._rule(href)[1]))

    def create_rule(self, rs_href: str, body: Any) -> Reply:
        """POST a rule into a draft rule set: 201; the rule set becomes pending."""
        rule_set = self._get("rule_sets", rs_href)
        fields, refs = pp.rule_body(body, creating=True)
        self._check_refs(refs)
        href = f"{rs_href}/sec_rules/{self._next['sec_rules']}"
        self._next["sec_rules"] += 1
        stamp = now_iso()
        rule = {"href": href, **fields, "created_at": stamp, "updated_at": stamp}
        rule_set["rules"].append(rule)
        rule_set["updated_at"] = stamp
        return Reply(201, copy.deepcopy(rule))

    def update_rule(self, href: str, body: Any) -> Reply:
        rule_set, rule = self._rule(href)
        current = {k: v for k, v in rule.items() if k not in _META}
        fields, refs = pp.rule_body(body, creating=False, current=current)
        self._check_refs(refs)
        rule.update(fields, updated_at=now_iso())
        rule_set["updated_at"] = rule["updated_at"]
        return no_content()

    def delete_rule(self, href: str) -> Reply:
        rule_set, rule = self._rule(href)
        rule_set["rules"].remove(rule)
        rule_set["updated_at"] = now_iso()
        return no_content()

    # ----------------------------------------------------------------- provisioning
    def pending(self) -> Reply:
        """GET sec_policy/pending: per type, the pending objects with their update_type."""
        body: dict[str, list[dict[str, Any]]] = {}
        for kind, changes in self.pending_hrefs().items():
            for href, change in changes.items():
                obj = self.draft[kind].get(href) or self.active[kind][href]
                body.setdefault(kind, []).append(
                    {"href": href, "name": obj["name"], "update_type": change}
                )
        return Reply(200, body)

    def _subset(self, raw: Any) -> dict[str, list[str]]:
        subset = pp.change_subset(raw)
        pending = self.pending_hrefs()
        for kind, hrefs in subset.items():
            for href in hrefs:
                if href not in pending.get(kind, {}):
                    raise ApiError(406, NOTHING_PENDING, f"{href} has no pending change")
        return subset

    def _missing(self, subset: dict[str, list[str]]) -> dict[str, list[str]]:
        """What the subset needs and lacks, per type."""
        chosen = {kind: set(subset.get(kind, [])) for kind in KINDS}
        missing: dict[str, set[str]] = {kind: set() for kind in KINDS}
        for href in chosen["rule_sets"]:
            draft = self.draft["rule_sets"].get(href)
            for ip_href in self._refs(draft).ip_lists if draft else ():
                if self.update_type("ip_lists", ip_href) == "create":
                    missing["ip_lists"].add(ip_href)
        for href in chosen["ip_lists"]:
            if self.update_type("ip_lists", href) != "delete":
                continue
            for rs_href, active in self.active["rule_sets"].items():
                if href in self._refs(active).ip_lists:
                    missing["rule_sets"].add(rs_href)
        return {kind: sorted(missing[kind] - chosen[kind]) for kind in KINDS}

    def dependencies(self, body: Any) -> Reply:
        """POST sec_policy/draft/dependencies: per type, the hrefs to add to the subset."""
        body = require_object(body, ("change_subset",), "dependencies")
        missing = self._missing(self._subset(body.get("change_subset")))
        return Reply(200, {kind: [{"href": h} for h in hrefs] for kind, hrefs in missing.items()})

    def provision(self, body: Any) -> Reply:
        """POST sec_policy: a new policy version from exactly the subset (201)."""
        body = require_object(body, ("update_description", "change_subset"), "sec_policy")
        description = string_field(body, "update_description", max_len=4096) or ""
        if "change_subset" in body:
            subset = self._subset(body["change_subset"])
            missing = self._missing(subset)
            if any(missing.values()):
                needed = sorted(h for hrefs in missing.values() for h in hrefs)
                raise ApiError(
                    406,
                    MISSING_DEPENDENCIES,
                    f"the change subset is not self-contained: it also needs {needed}",
                )
        else:
            subset = {kind: sorted(c) for kind, c in self.pending_hrefs().items()}
            if not any(subset.values()):
                raise ApiError(406, NOTHING_PENDING, "nothing is pending")
        counts: dict[str, int] = {}
        for kind in KINDS:
            for href in subset.get(kind, []):
                draft = self.draft[kind].get(href)
                if draft is None:
                    self.active[kind].pop(href, None)
                else:
                    self.active[kind][href] = copy.deepcopy(draft)
                counts[kind] = counts.get(kind, 0) + 1
        number = len(self.versions) + 1
        version = {
            "href": f"{self.base}/{number}",
            "version": number,
            "commit_message": description,
            "created_at": now_iso(),
            "created_by": dict(USER_REF),
            "object_counts": counts,
            "provisioned_hrefs": sorted(h for hrefs in subset.values() for h in hrefs),
        }
        self.versions.append(version)
        return Reply(201, copy.deepcopy(version))

    def list_versions(self, raw_query: str, prefer_async: bool) -> Reply:
        """GET sec_policy: the policy versions, newest first."""
        query = parse_query(raw_query, (), "sec_policy")
        items = [copy.deepcopy(v) for v in reversed(self.versions)]
        return self.store._collection("sec_policy", self.base, items, query, prefer_async)

    def get_version(self, href: str) -> Reply:
        number = int(href.rsplit("/", 1)[1])
        if not 0 < number <= len(self.versions):
            raise not_found(href)
        return Reply(200, copy.deepcopy(self.versions[number - 1]))
