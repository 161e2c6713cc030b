"""RuleSet: a draft Illumio rule set with its rules; `PolicyProvision` makes it active.

Check and diff are offline. Create adopts a draft rule set of the same name (names are
unique in the PCE) and rewrites it to the spec; otherwise it POSTs one. Rules are written
through `.../sec_rules` and matched by content, so an unchanged rule is never rewritten
and a rule whose POST answer was lost is found (by content) instead of added twice.
Update reads the live rule set first, so a run that failed halfway is finished, not
duplicated. Delete removes the draft and provisions that deletion, in one version with the
deletions running at the same time (`deletion_batches`).

Create's first lookup and every Read use the operation's snapshot of the draft rule sets
(`snapshots`: one collection read, rules embedded). A name found there is read again (one
GET) before it is adopted, so rules are never planned against an old read; a refused
duplicate or a lost POST answer is followed by a fresh lookup GET, as without snapshots.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi.dynamic

from providers.illumio import snapshots
from providers.illumio.deletion_batches import delete_and_provision
from providers.illumio.policy_payload import (
    canonical,
    common_problems,
    live_rule,
    live_scopes,
    normal_rules,
    normal_scopes,
    plan_rules,
    revision,
    rule_body,
    rule_problems,
    scopes_body,
    scopes_problems,
)
from providers.illumio.provider_base import (
    IllumioProvider,
    create_attempts,
    in_place_diff,
    is_unknown,
    plain_props,
    provider_client,
)
from providers.illumio.provisioning import default_owner

if TYPE_CHECKING:
    from providers.illumio.client import PceClient
    from providers.illumio.policy_models import RuleSetRecord

CONTENT_KEYS = ("name", "description", "enabled", "scopes", "rules")


def normal_inputs(props: Mapping[str, Any]) -> dict[str, Any]:
    """Inputs with defaults and sets in sorted order (no HTTP)."""
    out = {k: v for k, v in props.items() if k != "__provider"}
    out["description"] = out.get("description") or ""
    out["enabled"] = True if out.get("enabled") is None else out["enabled"]
    if not is_unknown(out.get("scopes")):
        out["scopes"] = normal_scopes(out.get("scopes"))
    if not is_unknown(out.get("rules")):
        out["rules"] = normal_rules(out.get("rules"))
    return out


def _content(inputs: Mapping[str, Any]) -> dict[str, Any]:
    return {key: inputs[key] for key in CONTENT_KEYS}


def _set_body(inputs: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": inputs["name"],
        "description": inputs["description"],
        "enabled": bool(inputs["enabled"]),
        "scopes": scopes_body(inputs["scopes"]),
    }


def _outputs(
    inputs: Mapping[str, Any], href: str, rule_hrefs: list[str], adopted: bool
) -> dict[str, Any]:
    return {
        **_content(inputs),
        "href": href,
        "rule_hrefs": rule_hrefs,
        "revision": revision(_content(inputs)),
        "adopted": adopted,
        "owner": inputs.get("owner") or "",
    }


def _post_rule(client: PceClient, rs_href: str, rule: dict[str, Any], taken: set[str]) -> str:
    """POST one rule; after a lost answer, look for it (by content) before sending again."""
    from providers.illumio.errors import PceOutcomeUnknownError

    last_error: Exception | None = None
    attempts = create_attempts()
    for _attempt in range(attempts):
        try:
            return client.create_rule(rs_href, rule_body(rule)).href
        except PceOutcomeUnknownError as error:
            last_error = error
            live = client.get_rule_set(rs_href).rules
            found = next(
                (r.href for r in live if r.href not in taken and live_rule(r) == rule), None
            )
            if found is not None:
                return found
    raise RuntimeError(
        f"rules: the PCE never answered adding a rule to {rs_href} after {attempts} attempts; "
        "run `pulumi up` again"
    ) from last_error


def write_rule_set(
    client: PceClient, record: RuleSetRecord, inputs: Mapping[str, Any]
) -> list[str]:
    """Make the live draft `record` match `inputs`; the rule hrefs, in `inputs` order.

    Requests: a PUT when the rule set's own fields differ, then one PUT per changed rule,
    one DELETE per rule no longer wanted and one POST per new rule.
    """
    from providers.illumio.errors import PceNotFoundError

    snapshots.changed(client, "rule_sets", record.href)  # the next Read GETs it
    live_fields = {
        "name": record.name,
        "description": record.description or "",
        "enabled": record.enabled,
        "scopes": live_scopes(record.scopes),
    }
    if live_fields != {k: inputs[k] for k in live_fields}:
        client.update_rule_set(record.href, _set_body(inputs))
    desired = inputs["rules"]
    live = [(r.href, live_rule(r)) for r in record.rules]
    kept, rewrite, add, remove = plan_rules(live, desired)
    hrefs = dict(kept)
    for href in remove:
        with contextlib.suppress(PceNotFoundError):
            client.delete_rule(href)
    for href, index in rewrite:
        client.update_rule(href, rule_body(desired[index]))
        hrefs[index] = href
    for index in add:
        hrefs[index] = _post_rule(client, record.href, desired[index], set(hrefs.values()))
    return [hrefs[i] for i in range(len(desired))]


def _find(client: PceClient, name: str, *, fresh: bool) -> RuleSetRecord | None:
    """The draft rule set named exactly `name`, or None: one filtered GET when `fresh` (or
    without a snapshot); else looked up in the operation's snapshot, and a rule set found
    there read again (one GET), so adoption writes against its live rules."""
    from providers.illumio.errors import PceNotFoundError

    snapshot = None if fresh else snapshots.rule_sets(client)
    if snapshot is not None:
        found = snapshot.find(lambda r: r.name == name and not r.deleted)
        if not found:
            return None
        try:
            record = client.get_rule_set(found[0].href)
        except PceNotFoundError:
            record = None
        snapshots.reread(client, "rule_sets", found[0].href, record)
        if record is not None and record.name == name and not record.deleted:
            return record
    return next(iter(client.find_rule_sets(name)), None)


class RuleSetProvider(IllumioProvider):
    """CRUD for `/orgs/<org>/sec_policy/draft/rule_sets` and their `sec_rules`."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        """Refuse what the PCE would refuse, naming the property (no HTTP)."""
        failures = common_problems(news)
        failures += [("scopes", p) for p in scopes_problems(news.get("scopes"))]
        rules = news.get("rules")
        if not is_unknown(rules):
            if rules is not None and not isinstance(rules, list):
                failures.append(("rules", "rules: a list of rules"))
            else:
                for i, rule in enumerate(rules or []):
                    failures += [("rules", p) for p in rule_problems(rule, f"rules[{i}]")]
        enabled = news.get("enabled")
        if enabled is not None and not is_unknown(enabled) and not isinstance(enabled, bool):
            failures.append(("enabled", "enabled: true or false"))
        return pulumi.dynamic.CheckResult(
            news, [pulumi.dynamic.CheckFailure(p, r) for p, r in failures]
        )

    def diff(
        self, _id: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.DiffResult:
        """Every change is an update in place (a rule set keeps its href)."""
        return in_place_diff(olds, news, normal_inputs, CONTENT_KEYS)

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        """Adopt the draft rule set of this name, or POST one; then write its rules."""
        from providers.illumio.errors import PceConflictError, PceOutcomeUnknownError

        inputs = normal_inputs(plain_props(props))
        client = provider_client()
        last_error: Exception | None = None
        attempts = create_attempts()
        for attempt in range(attempts):
            existing = _find(client, inputs["name"], fresh=attempt > 0)
            if existing is not None:
                hrefs = write_rule_set(client, existing, inputs)
                outs = _outputs(inputs, existing.href, hrefs, adopted=attempt == 0)
                return pulumi.dynamic.CreateResult(existing.href, outs)
            try:
                record = client.create_rule_set(_set_body(inputs))
            except (PceConflictError, PceOutcomeUnknownError) as error:
                last_error = error  # made meanwhile (by us or someone): look again, adopt
                continue
            snapshots.created(client, "rule_sets", record)
            hrefs = write_rule_set(client, record, inputs)
            return pulumi.dynamic.CreateResult(
                record.href, _outputs(inputs, record.href, hrefs, adopted=False)
            )
        raise RuntimeError(
            f"name: could not create or find rule set {inputs['name']!r} after {attempts} "
            "attempts; run `pulumi up` again"
        ) from last_error

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        """The live draft, or an empty id when it is gone (or its deletion is pending)."""

        old = plain_props(props)
        client = provider_client()
        record = snapshots.read_through(
            client, "rule_sets", snapshots.rule_sets(client), id_, client.get_rule_set
        )
        if record is None or record.deleted:
            return pulumi.dynamic.ReadResult("", {})
        by_content = {canonical(live_rule(r)): r.href for r in record.rules}
        live = {
            "name": record.name,
            "description": record.description or "",
            "enabled": record.enabled,
            "scopes": live_scopes(record.scopes),
            "rules": [live_rule(r) for r in record.rules],
            "owner": old.get("owner") or "",
        }
        inputs = normal_inputs(live)
        hrefs = [by_content[canonical(rule)] for rule in inputs["rules"]]
        return pulumi.dynamic.ReadResult(
            id_, _outputs(inputs, id_, hrefs, bool(old.get("adopted")))
        )

    def update(
        self, id_: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.UpdateResult:
        """Read the live draft (1 GET), then write only what differs from the spec."""
        inputs = normal_inputs(plain_props(news))
        client = provider_client()
        hrefs = write_rule_set(client, client.get_rule_set(id_), inputs)
        adopted = bool(plain_props(olds).get("adopted"))
        return pulumi.dynamic.UpdateResult(_outputs(inputs, id_, hrefs, adopted))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """DELETE the draft (gone already is fine), then provision the deletion, in one
        policy version with the deletions running at the same time (`deletion_batches`)."""
        owner = str(plain_props(props).get("owner") or "")
        delete_and_provision(provider_client(), "rule_sets", id_, owner)


class RuleSet(pulumi.dynamic.Resource, module="illumio", name="RuleSet"):
    """A draft rule set and its rules (input form in `policy_payload`).

    `revision` digests the content; hand the resource to `PolicyProvision` to make it
    active. `rule_hrefs` are the rules' hrefs, in the order of the (sorted) `rules`.
    """

    href: pulumi.Output[str]
    name: pulumi.Output[str]
    description: pulumi.Output[str]
    enabled: pulumi.Output[bool]
    scopes: pulumi.Output[list[list[str]]]
    rules: pulumi.Output[list[dict[str, Any]]]
    rule_hrefs: pulumi.Output[list[str]]
    revision: pulumi.Output[str]
    adopted: pulumi.Output[bool]
    owner: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        name: pulumi.Input[str],
        scopes: pulumi.Input[list[Any]],
        rules: pulumi.Input[list[Any]],
        description: pulumi.Input[str] | None = None,
        enabled: pulumi.Input[bool] = True,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            "name": name,
            "description": description,
            "enabled": enabled,
            "scopes": scopes,
            "rules": rules,
            "owner": default_owner(),
            "href": None,
            "rule_hrefs": None,
            "revision": None,
            "adopted": None,
        }
        super().__init__(RuleSetProvider(), resource_name, props, opts)
