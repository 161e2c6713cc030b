"""PolicyTeardown: deletes a stack's rule sets and IP lists together, as one policy version.

Why: the engine deletes removed resources one by one, so a destroy of N rule sets used to
cost N policy versions (each deletion provisioned itself: a pending read, a dependencies
question and a provision per object). A `PolicyTeardown` names the stack's objects, and
each object is declared `deleted_with` it (`pulumi.ResourceOptions(deleted_with=...)`):
when the teardown is deleted in the same operation as the objects, the engine skips their
own deletes and the teardown's delete does the work:

- one read per collection (the operation's snapshot of draft rule sets and IP lists),
- one DELETE per draft still there (several in flight), rule sets before the IP lists
  they use,
- one provision of every deletion (pending read, dependencies, provision).

The teardown keeps the objects' names, not their hrefs (it is registered before them, so
`deleted_with` can name it), and names are unique in the PCE. A destroy that failed after
some drafts were deleted is finished by the next one: the teardown also claims the pending
deletions of its names. An object removed while the teardown stays (a project dropped from
the spec) is deleted and provisioned by its own delete, as before.

Create, update and read make no request; the teardown must be removed together with its
objects (the `Segmentation` component declares all of them or none).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi.dynamic

from providers.illumio import snapshots
from providers.illumio.limits import MAX_NAME
from providers.illumio.policy_objects import subset_kind
from providers.illumio.policy_payload import revision
from providers.illumio.provider_base import (
    IllumioProvider,
    is_unknown,
    plain_props,
    provider_client,
)
from providers.illumio.provisioning import default_owner, delete_draft, provision_own

if TYPE_CHECKING:
    from providers.illumio.client import PceClient
    from providers.illumio.policy_models import PendingChange

KINDS = ("rule_sets", "ip_lists")
"""Deletion order: a draft IP list a draft rule set uses cannot be deleted."""
DELETE_WORKERS = 8
"""DELETEs in flight at once: enough to keep a slow PCE busy at the throttle's rate."""


def _names(value: Any) -> list[str]:
    return sorted({str(v) for v in value or []})


def name_problems(key: str, value: Any) -> list[str]:
    """What is wrong with one list of object names (no HTTP)."""
    if is_unknown(value):
        return []
    if not isinstance(value, list | tuple):
        return [f"{key}: expected a list of names"]
    return [
        f"{key}: {name!r} is not a PCE object name (1 to {MAX_NAME} characters)"
        for name in value
        if not isinstance(name, str) or not 0 < len(name) <= MAX_NAME
    ]


def _drafts(client: PceClient, kind: str, names: Sequence[str]) -> list[Any]:
    """The live drafts of `kind` named in `names`: from one collection read, or one lookup
    per name when that read fails."""
    wanted = set(names)
    snapshot = snapshots.rule_sets(client) if kind == "rule_sets" else snapshots.ip_lists(client)
    if snapshot is not None:
        found = snapshot.find(lambda r: r.name in wanted and not r.deleted)
    else:
        find = client.find_rule_sets if kind == "rule_sets" else client.find_ip_lists
        found = [record for name in sorted(wanted) for record in find(name)]
    return sorted(found, key=lambda r: r.name)


def _claims(names: Mapping[str, Sequence[str]]) -> Callable[[PendingChange], bool]:
    """A pending deletion of one of the named objects is the teardown's own."""
    wanted = {(kind, name) for kind, kind_names in names.items() for name in kind_names}

    def claim(change: PendingChange) -> bool:
        try:
            kind = subset_kind(change.href)
        except ValueError:
            return False
        return change.update_type == "delete" and (kind, change.name) in wanted

    return claim


def tear_down(
    client: PceClient, names: Mapping[str, Sequence[str]], owner: str
) -> tuple[list[str], str | None]:
    """Delete the named drafts and provision every deletion as one version."""
    deleted: list[str] = []
    for kind in KINDS:
        hrefs = [record.href for record in _drafts(client, kind, names.get(kind) or ())]
        if hrefs:
            # In parallel, as the engine would send the objects' own deletes: the client's
            # throttle, not one request's latency, sets the pace. The first failure is
            # raised once every DELETE has ended; nothing is provisioned then, and the
            # next destroy claims the deletions made.
            with ThreadPoolExecutor(min(DELETE_WORKERS, len(hrefs))) as pool:
                list(pool.map(lambda href, kind=kind: delete_draft(client, kind, href), hrefs))
            deleted += hrefs
    return provision_own(client, deleted, owner, "pulumi destroy deletes", also=_claims(names))


class PolicyTeardownProvider(IllumioProvider):
    """No request until its delete, which deletes and provisions its objects at once."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        failures = [
            pulumi.dynamic.CheckFailure(kind, problem)
            for kind in KINDS
            for problem in name_problems(kind, news.get(kind))
        ]
        return pulumi.dynamic.CheckResult(news, failures)

    def diff(
        self, _id: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.DiffResult:
        olds, news = plain_props(olds), plain_props(news)
        if any(is_unknown(news.get(key)) for key in (*KINDS, "owner")):
            return pulumi.dynamic.DiffResult(changes=True, replaces=[])
        return pulumi.dynamic.DiffResult(
            changes=self._outputs(olds) != self._outputs(news), replaces=[]
        )

    @staticmethod
    def _outputs(props: Mapping[str, Any]) -> dict[str, Any]:
        return {
            **{kind: _names(props.get(kind)) for kind in KINDS},
            "owner": str(props.get("owner") or ""),
        }

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        outs = self._outputs(plain_props(props))
        return pulumi.dynamic.CreateResult(
            f"policy-teardown-{revision({'owner': outs['owner']})}", outs
        )

    def update(
        self, _id: str, _olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.UpdateResult:
        return pulumi.dynamic.UpdateResult(self._outputs(plain_props(news)))

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        """Nothing in the PCE is the teardown itself: the state is the truth."""
        return pulumi.dynamic.ReadResult(id_, self._outputs(plain_props(props)))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        outs = self._outputs(plain_props(props))
        tear_down(provider_client(), {kind: outs[kind] for kind in KINDS}, outs["owner"])


class PolicyTeardown(pulumi.dynamic.Resource, module="illumio", name="PolicyTeardown"):
    """The stack's rule sets and IP lists by name; declare each of them with
    `deleted_with=` this resource so that deleting them all costs one policy version."""

    rule_sets: pulumi.Output[list[str]]
    ip_lists: pulumi.Output[list[str]]
    owner: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        rule_sets: Sequence[str] = (),
        ip_lists: Sequence[str] = (),
        owner: str | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            "rule_sets": sorted(set(rule_sets)),
            "ip_lists": sorted(set(ip_lists)),
            "owner": owner or default_owner(),
        }
        super().__init__(PolicyTeardownProvider(), resource_name, props, opts)
