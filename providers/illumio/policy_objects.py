"""The per-object PCE calls of the security policy: draft rule sets and their rules, draft
IP lists, pending changes, the dependencies of a change subset, provisioning, versions.

Every write goes to `/sec_policy/draft/...` (active objects are read-only). Each call
checks the href it is given before anything is sent, validates the answer into its model
(`policy_models`), and filters collections exactly (the PCE's `name` filter is partial).
A draft object whose deletion is still pending counts as gone: lookups skip it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from providers.illumio.collection_reads import CollectionReads
from providers.illumio.policy_models import (
    IpListRecord,
    PendingChange,
    PolicyVersionRecord,
    RuleRecord,
    RuleSetRecord,
)

RULE_SET_HREF = re.compile(r"^/orgs/\d+/sec_policy/draft/rule_sets/[^/]+$")
RULE_HREF = re.compile(r"^/orgs/\d+/sec_policy/draft/rule_sets/[^/]+/sec_rules/[^/]+$")
IP_LIST_HREF = re.compile(r"^/orgs/\d+/sec_policy/draft/ip_lists/[^/]+$")
SUBSET_KINDS = {"rule_sets": RULE_SET_HREF, "ip_lists": IP_LIST_HREF}


def subset_kind(href: str) -> str:
    """`rule_sets` or `ip_lists` for a draft href; ValueError for anything else."""
    for kind, pattern in SUBSET_KINDS.items():
        if isinstance(href, str) and pattern.match(href):
            return kind
    raise ValueError(f"expected a draft rule set or IP list href, got {href!r}")


def change_subset(hrefs: Iterable[str]) -> dict[str, list[dict[str, str]]]:
    """`{"rule_sets": [{"href"}], "ip_lists": [{"href"}]}` from draft hrefs, sorted, exact."""
    subset: dict[str, list[dict[str, str]]] = {}
    for href in sorted(set(hrefs)):
        subset.setdefault(subset_kind(href), []).append({"href": href})
    return subset


def _hrefs(items: Any) -> list[str]:
    """Hrefs from one type's entry of a dependencies answer: `[{href}]` or `[href]`."""
    found: list[str] = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, Mapping):
            ref = item.get("href") or (item.get("dependency") or {}).get("href")
            if isinstance(ref, str):
                found.append(ref)
    return found


class PolicyObjectCalls(CollectionReads):
    """Typed calls for the security-policy objects tenantguard manages."""

    @property
    def policy_href(self) -> str:
        return f"{self.org_href}/sec_policy"

    # -- rule sets and rules ----------------------------------------------------

    def find_rule_sets(self, name: str) -> list[RuleSetRecord]:
        """Draft rule sets named exactly `name` (not those pending deletion)."""
        href = f"{self.policy_href}/draft/rule_sets"
        records = self._models(RuleSetRecord, self.get_collection(href, {"name": name}), href)
        return [r for r in records if r.name == name and not r.deleted]

    def list_rule_sets(self) -> list[RuleSetRecord]:
        """Every draft rule set, rules embedded: one collection read (an async job above 500).

        ValueError when an entry comes without its `rules`, so that callers read each rule
        set on its own instead of taking it for one without rules.
        """
        href = f"{self.policy_href}/draft/rule_sets"
        items = self.get_collection(href)
        if any("rules" not in item for item in items):
            raise ValueError("the PCE listed rule sets without their rules")
        return self._models(RuleSetRecord, items, href)

    def get_rule_set(self, href: str) -> RuleSetRecord:
        """One draft rule set with its rules. PceNotFoundError when it is gone."""
        _require(href, RULE_SET_HREF, "a draft rule set href")
        return self._model(RuleSetRecord, self.get(href), "GET", href)

    def create_rule_set(self, body: Mapping[str, Any]) -> RuleSetRecord:
        href = f"{self.policy_href}/draft/rule_sets"
        return self._model(RuleSetRecord, self.post(href, dict(body)), "POST", href)

    def update_rule_set(self, href: str, body: Mapping[str, Any]) -> None:
        _require(href, RULE_SET_HREF, "a draft rule set href")
        self.put(href, dict(body))

    def delete_rule_set(self, href: str) -> None:
        _require(href, RULE_SET_HREF, "a draft rule set href")
        self.delete(href)

    def create_rule(self, rule_set_href: str, body: Mapping[str, Any]) -> RuleRecord:
        _require(rule_set_href, RULE_SET_HREF, "a draft rule set href")
        href = f"{rule_set_href}/sec_rules"
        return self._model(RuleRecord, self.post(href, dict(body)), "POST", href)

    def update_rule(self, href: str, body: Mapping[str, Any]) -> None:
        _require(href, RULE_HREF, "a draft rule href")
        self.put(href, dict(body))

    def delete_rule(self, href: str) -> None:
        _require(href, RULE_HREF, "a draft rule href")
        self.delete(href)

    # -- IP lists -----------------------------------------------------------------

    def find_ip_lists(self, name: str) -> list[IpListRecord]:
        """Draft IP lists named exactly `name` (not those pending deletion)."""
        href = f"{self.policy_href}/draft/ip_lists"
        records = self._models(IpListRecord, self.get_collection(href, {"name": name}), href)
        return [r for r in records if r.name == name and not r.deleted]

    def list_ip_lists(self) -> list[IpListRecord]:
        """Every draft IP list: one collection read (an async job above 500)."""
        href = f"{self.policy_href}/draft/ip_lists"
        return self._models(IpListRecord, self.get_collection(href), href)

    def get_ip_list(self, href: str) -> IpListRecord:
        _require(href, IP_LIST_HREF, "a draft IP list href")
        return self._model(IpListRecord, self.get(href), "GET", href)

    def create_ip_list(self, body: Mapping[str, Any]) -> IpListRecord:
        href = f"{self.policy_href}/draft/ip_lists"
        return self._model(IpListRecord, self.post(href, dict(body)), "POST", href)

    def update_ip_list(self, href: str, body: Mapping[str, Any]) -> None:
        _require(href, IP_LIST_HREF, "a draft IP list href")
        self.put(href, dict(body))

    def delete_ip_list(self, href: str) -> None:
        _require(href, IP_LIST_HREF, "a draft IP list href")
        self.delete(href)

    # -- pending changes and provisioning ---------------------------------------

    def pending_changes(self) -> dict[str, PendingChange]:
        """Every pending rule-set and IP-list change in the org, by draft href."""
        href = f"{self.policy_href}/pending"
        data = self.get(href) or {}
        found: dict[str, PendingChange] = {}
        for kind in SUBSET_KINDS:
            items = data.get(kind) if isinstance(data, Mapping) else None
            for item in self._list(items, "GET", href):
                change = self._model(PendingChange, item, "GET", href)
                found[change.href] = change
        return found

    def policy_dependencies(self, hrefs: Iterable[str]) -> set[str]:
        """The hrefs a change subset of `hrefs` still needs (the PCE's dependencies answer)."""
        from providers.illumio.errors import PceOutcomeUnknownError

        href = f"{self.policy_href}/draft/dependencies"
        body = {"change_subset": change_subset(hrefs)}
        for attempt in range(self.settings.max_retries + 1):
            try:
                data = self.post(href, body)
                break
            except PceOutcomeUnknownError:
                # A question, not a write: asking again after a lost answer changes nothing.
                if attempt == self.settings.max_retries:
                    raise
        return {h for kind in SUBSET_KINDS for h in _hrefs(data.get(kind))}

    def provision(self, hrefs: Iterable[str], description: str) -> PolicyVersionRecord:
        """Provision exactly these pending changes as one policy version (never all)."""
        subset = change_subset(hrefs)
        if not subset:
            raise ValueError("refusing to provision without a change subset")
        body = {"update_description": description, "change_subset": subset}
        data = self.post(self.policy_href, body)
        return self._model(PolicyVersionRecord, data, "POST", self.policy_href)

    def list_policy_versions(self) -> list[PolicyVersionRecord]:
        return self._models(
            PolicyVersionRecord, self.get_collection(self.policy_href), self.policy_href
        )


def _require(href: str, pattern: re.Pattern[str], what: str) -> None:
    if not isinstance(href, str) or not pattern.match(href):
        raise ValueError(f"expected {what}, got {href!r}")
