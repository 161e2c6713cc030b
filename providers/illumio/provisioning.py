"""Provisioning: `PolicyProvision` makes the stack's draft changes active, and only those.

Design, and why:
- **One resource provisions an up's writes.** `PolicyProvision` takes the stack's rule
  sets and IP lists as `changes` (draft href -> revision, the digest of the content each
  one wrote) and depends on them, so the engine runs it after every create and update of
  the run. Its create provisions every listed href that is pending; its update only the
  hrefs whose revision is new or changed. So one `pulumi up` makes one policy version for
  all its writes, and a no-op up, where no revision moves, makes no request at all.
- **Exact subsets, never someone else's draft.** It reads `GET /sec_policy/pending`, keeps
  the hrefs that are its own and pending, and asks `POST .../draft/dependencies` what such a
  subset still needs. Anything needed that is not the stack's own (another user's draft IP
  list, a label group) fails the run with the hrefs named: it is never pulled in. Then one
  `POST /sec_policy` with `change_subset` of exact `{href}` entries; never without one.
- **A removed object provisions its own deletion.** The engine deletes removed resources
  after all creates and updates, dependents first. So a `RuleSet` or `IpList` that an up
  drops DELETEs its draft and provisions that deletion itself, with the same
  pending/dependencies steps: a rule set goes before the IP lists it used, so each
  deletion's subset is self-contained. Deletions running at the same time in one provider
  process share that version (`deletion_batches`).
- **A teardown is one version.** Objects declared `deleted_with` a `PolicyTeardown`
  (`providers.illumio.teardown`) are not deleted one by one when it goes too (a destroy,
  or the whole segmentation removed): the teardown deletes their drafts and provisions
  every deletion at once.
- **Repair without duplicates.** A provision whose answer is lost (5xx, a dropped
  connection) is followed by a fresh read of the pending changes: what is no longer
  pending was provisioned, and only what still is gets sent again. A failure between a
  draft write and its provision leaves `PolicyProvision`'s old inputs in the state, so the
  next up sees the revisions move again and provisions what is still pending, and nothing
  that is not (a change already provisioned never makes a second version). `refresh` marks
  changes still pending so that the next up provisions them.
- **Descriptions** name tenantguard, the Pulumi project and stack (`owner`), what is
  provisioned, and the update as a digest of the changes (stable across retries of the
  same change; the Pulumi update id is not visible to a program).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi.dynamic

from providers.illumio import snapshots
from providers.illumio.policy_objects import subset_kind
from providers.illumio.policy_payload import revision
from providers.illumio.provider_base import (
    IllumioProvider,
    create_attempts,
    is_unknown,
    plain_props,
    provider_client,
)

if TYPE_CHECKING:
    from providers.illumio.client import PceClient
    from providers.illumio.policy_models import PendingChange

MAX_DESCRIPTION = 1000


class ProvisionError(Exception):
    """The stack's changes could not be provisioned without touching others' drafts."""


class ForeignDraftError(ProvisionError):
    """Provisioning the stack's changes would also need a draft the stack did not write."""


def default_owner() -> str:
    """`<project>/<stack>` of the running program."""
    return f"{pulumi.get_project()}/{pulumi.get_stack()}"


def describe(owner: str, action: str, hrefs: Iterable[str], names: Mapping[str, str]) -> str:
    """The policy version's description: who, what, and the update's digest."""
    hrefs = sorted(hrefs)
    what = ", ".join(f"{subset_kind(h)[:-1].replace('_', ' ')} {names.get(h) or h}" for h in hrefs)
    text = f"tenantguard {owner}: {action} {what} [update {revision({'hrefs': hrefs})}]"
    return text if len(text) <= MAX_DESCRIPTION else text[: MAX_DESCRIPTION - 3] + "..."


def provision_own(
    client: PceClient,
    hrefs: Iterable[str],
    owner: str,
    action: str,
    also: Callable[[PendingChange], bool] | None = None,
) -> tuple[list[str], str | None]:
    """Provision those of `hrefs` that are pending, as one version; (provisioned, version).

    `also` claims more of the pending changes as the stack's own (a teardown claims the
    pending deletions of its objects by name, so a retried destroy still provisions the
    deletions an earlier attempt made). Requests: 1 GET pending (and nothing more when none
    is pending), 1 POST dependencies, 1 POST provision; after a lost provision answer,
    1 GET pending before each retry.
    """
    from providers.illumio.errors import PceOutcomeUnknownError

    own = set(hrefs)
    pending = client.pending_changes()
    if also is not None:
        own |= {href for href, change in pending.items() if also(change)}
    todo = sorted(own & set(pending))
    if not todo:
        return [], None
    outside = sorted(client.policy_dependencies(todo) - own)
    if outside:
        raise ForeignDraftError(
            f"provisioning {', '.join(todo)} also needs {', '.join(outside)}, which this stack "
            "did not write; tenantguard never provisions another user's draft. Provision or "
            "revert those first, then run `pulumi up` again"
        )
    names = {h: pending[h].name or "" for h in todo}
    description = describe(owner, action, todo, names)
    attempts = create_attempts()
    last_error: Exception | None = None
    for _attempt in range(attempts):
        try:
            version = client.provision(todo, description)
            return todo, version.href
        except PceOutcomeUnknownError as error:
            last_error = error
            still = set(client.pending_changes())
            remaining = [h for h in todo if h in still]
            if not remaining:
                return todo, None  # it went through; only the answer was lost
            todo = remaining  # resend only what is still pending: never a second version
    raise ProvisionError(
        f"the PCE never answered provisioning {', '.join(todo)} after {attempts} attempts; "
        "run `pulumi up` again (nothing is provisioned twice)"
    ) from last_error


def delete_draft(client: PceClient, kind: str, href: str) -> None:
    """DELETE one draft rule set or IP list (already gone is fine) and forget it in the
    snapshot; provisioning the deletion is the caller's, alone or with others."""
    from providers.illumio.errors import PceNotFoundError

    delete = {"rule_sets": client.delete_rule_set, "ip_lists": client.delete_ip_list}[kind]
    with contextlib.suppress(PceNotFoundError):
        delete(href)
    snapshots.deleted(client, kind, href)


def _changes(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in (value or {}).items()}


class PolicyProvisionProvider(IllumioProvider):
    """Provisions the pending changes of exactly the listed draft hrefs."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        failures = []
        changes = news.get("changes")
        if not is_unknown(changes):
            if not isinstance(changes, Mapping):
                failures.append(pulumi.dynamic.CheckFailure("changes", "changes: href -> rev"))
            else:
                for href in changes:
                    try:
                        subset_kind(href)
                    except ValueError as error:
                        failures.append(pulumi.dynamic.CheckFailure("changes", str(error)))
        return pulumi.dynamic.CheckResult(news, failures)

    def diff(
        self, _id: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.DiffResult:
        olds, news = plain_props(olds), plain_props(news)
        changed = [
            key
            for key in ("changes", "owner", "description")
            if is_unknown(news.get(key)) or olds.get(key) != news.get(key)
        ]
        return pulumi.dynamic.DiffResult(changes=bool(changed), replaces=[])

    def _provision(self, old: Mapping[str, str], props: dict[str, Any]) -> dict[str, Any]:
        changes = _changes(props.get("changes"))
        owner = str(props.get("owner") or "")
        moved = [h for h, rev in changes.items() if old.get(h) != rev]
        done, version = [], None
        if moved:
            done, version = provision_own(provider_client(), moved, owner, "pulumi up provisions")
        return {
            "changes": changes,
            "owner": owner,
            "description": props.get("description") or "",
            "provisioned": done,
            "version": version,
        }

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        outs = self._provision({}, plain_props(props))
        return pulumi.dynamic.CreateResult(f"provision-{revision(outs['changes'])}", outs)

    def update(
        self, _id: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.UpdateResult:
        old = _changes(plain_props(olds).get("changes"))
        return pulumi.dynamic.UpdateResult(self._provision(old, plain_props(news)))

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        """Changes of ours still pending get a `pending:` revision, so the next up sends them."""
        outs = plain_props(props)
        changes = _changes(outs.get("changes"))
        pending = provider_client().pending_changes() if changes else {}
        outs["changes"] = {
            h: (f"pending:{rev}" if h in pending and not rev.startswith("pending:") else rev)
            for h, rev in changes.items()
        }
        return pulumi.dynamic.ReadResult(id_, outs)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Nothing to do: a RuleSet/IpList delete provisions its own deletion, or their
        `PolicyTeardown` provisions them all."""


class PolicyProvision(pulumi.dynamic.Resource, module="illumio", name="PolicyProvision"):
    """Makes the draft changes of `objects` (RuleSet/IpList resources) active: one policy
    version per `pulumi up` that changed any of them, none for a no-op."""

    changes: pulumi.Output[dict[str, str]]
    owner: pulumi.Output[str]
    description: pulumi.Output[str]
    provisioned: pulumi.Output[list[str]]
    version: pulumi.Output[str | None]

    def __init__(
        self,
        resource_name: str,
        *,
        objects: Sequence[pulumi.Resource],
        description: pulumi.Input[str] | None = None,
        owner: str | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        pairs = [pulumi.Output.all(o.href, o.revision) for o in objects]  # type: ignore[attr-defined]
        changes = pulumi.Output.all(*pairs).apply(lambda items: {h: r for h, r in items})
        props: dict[str, Any] = {
            "changes": changes,
            "owner": owner or default_owner(),
            "description": description or "",
            "provisioned": None,
            "version": None,
        }
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=list(objects)))
        super().__init__(PolicyProvisionProvider(), resource_name, props, opts)
