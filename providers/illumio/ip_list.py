"""IpList: a draft Illumio IP list; `PolicyProvision` makes it active.

Check and diff are offline. Create adopts a draft IP list of the same name (names are
unique in the PCE) with one PUT, or POSTs one; a lost POST answer or a duplicate refusal
means look again and adopt. Update is one PUT. Delete removes the draft and provisions
that deletion, in one version with the deletions running at the same time
(`deletion_batches`); an IP list a rule set still uses is refused by the
PCE, and the engine deletes rule sets before the IP lists they depend on.

Create's first lookup and every Read use the operation's snapshot of the draft IP lists
(`snapshots`: one collection read); a name found there is read again (one GET) before it
is adopted, and a refused duplicate or a lost POST answer means a fresh lookup GET.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi.dynamic

from providers.illumio import snapshots
from providers.illumio.deletion_batches import delete_and_provision
from providers.illumio.policy_payload import (
    common_problems,
    ip_range_body,
    live_range,
    normal_range,
    range_problem,
    revision,
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
    from providers.illumio.policy_models import IpListRecord

CONTENT_KEYS = ("name", "description", "ip_ranges", "fqdns")


def normal_inputs(props: Mapping[str, Any]) -> dict[str, Any]:
    """Inputs with defaults; ranges and FQDNs as sorted sets (no HTTP)."""
    out = {k: v for k, v in props.items() if k != "__provider"}
    out["description"] = out.get("description") or ""
    if not is_unknown(out.get("ip_ranges")):
        out["ip_ranges"] = sorted({normal_range(str(r)) for r in out.get("ip_ranges") or []})
    if not is_unknown(out.get("fqdns")):
        out["fqdns"] = sorted({str(f).strip().lower() for f in out.get("fqdns") or []})
    return out


def _content(inputs: Mapping[str, Any]) -> dict[str, Any]:
    return {key: inputs[key] for key in CONTENT_KEYS}


def _body(inputs: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": inputs["name"],
        "description": inputs["description"],
        "ip_ranges": [ip_range_body(r) for r in inputs["ip_ranges"]],
        "fqdns": [{"fqdn": f} for f in inputs["fqdns"]],
    }


def _live(record: IpListRecord) -> dict[str, Any]:
    return normal_inputs(
        {
            "name": record.name,
            "description": record.description or "",
            "ip_ranges": [live_range(r) for r in record.ip_ranges],
            "fqdns": [str(f.get("fqdn", "")) for f in record.fqdns],
        }
    )


def _outputs(inputs: Mapping[str, Any], href: str, adopted: bool) -> dict[str, Any]:
    return {
        **_content(inputs),
        "href": href,
        "revision": revision(_content(inputs)),
        "adopted": adopted,
        "owner": inputs.get("owner") or "",
    }


def _find(client: PceClient, name: str, *, fresh: bool) -> IpListRecord | None:
    """The draft IP list named exactly `name`, or None: one filtered GET when `fresh` (or
    without a snapshot); else looked up in the operation's snapshot, and one found there
    read again (one GET), so adoption compares against the live list."""
    from providers.illumio.errors import PceNotFoundError

    snapshot = None if fresh else snapshots.ip_lists(client)
    if snapshot is not None:
        found = snapshot.find(lambda r: r.name == name and not r.deleted)
        if not found:
            return None
        try:
            record = client.get_ip_list(found[0].href)
        except PceNotFoundError:
            record = None
        snapshots.reread(client, "ip_lists", found[0].href, record)
        if record is not None and record.name == name and not record.deleted:
            return record
    return next(iter(client.find_ip_lists(name)), None)


class IpListProvider(IllumioProvider):
    """CRUD for `/orgs/<org>/sec_policy/draft/ip_lists`."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        """Refuse what the PCE would refuse, naming the property (no HTTP)."""
        failures = common_problems(news)
        ranges, fqdns = news.get("ip_ranges"), news.get("fqdns")
        if not is_unknown(ranges):
            if not isinstance(ranges, list):
                failures.append(("ip_ranges", "ip_ranges: a list of CIDRs or ranges"))
            else:
                for i, value in enumerate(ranges):
                    if reason := range_problem(value, f"ip_ranges[{i}]"):
                        failures.append(("ip_ranges", reason))
        if (
            fqdns is not None
            and not is_unknown(fqdns)
            and (not isinstance(fqdns, list) or not all(isinstance(f, str) and f for f in fqdns))
        ):
            failures.append(("fqdns", "fqdns: a list of host names"))
        if not is_unknown(ranges) and not is_unknown(fqdns) and not ranges and not fqdns:
            failures.append(("ip_ranges", "ip_ranges: give at least one range or FQDN"))
        return pulumi.dynamic.CheckResult(
            news, [pulumi.dynamic.CheckFailure(p, r) for p, r in failures]
        )

    def diff(
        self, _id: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.DiffResult:
        """Every change is an update in place."""
        return in_place_diff(olds, news, normal_inputs, CONTENT_KEYS)

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        """Adopt the draft IP list of this name (one PUT if it differs), or POST one."""
        from providers.illumio.errors import PceConflictError, PceOutcomeUnknownError

        inputs = normal_inputs(plain_props(props))
        client = provider_client()
        last_error: Exception | None = None
        attempts = create_attempts()
        for attempt in range(attempts):
            existing = _find(client, inputs["name"], fresh=attempt > 0)
            if existing is not None:
                if _content(_live(existing)) != _content(inputs):
                    client.update_ip_list(existing.href, _body(inputs))
                    snapshots.changed(client, "ip_lists", existing.href)
                outs = _outputs(inputs, existing.href, adopted=attempt == 0)
                return pulumi.dynamic.CreateResult(existing.href, outs)
            try:
                record = client.create_ip_list(_body(inputs))
            except (PceConflictError, PceOutcomeUnknownError) as error:
                last_error = error
                continue
            snapshots.created(client, "ip_lists", record)
            return pulumi.dynamic.CreateResult(record.href, _outputs(inputs, record.href, False))
        raise RuntimeError(
            f"name: could not create or find IP list {inputs['name']!r} after {attempts} "
            "attempts; run `pulumi up` again"
        ) from last_error

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        """The live draft, or an empty id when it is gone (or its deletion is pending)."""

        old = plain_props(props)
        client = provider_client()
        record = snapshots.read_through(
            client, "ip_lists", snapshots.ip_lists(client), id_, client.get_ip_list
        )
        if record is None or record.deleted:
            return pulumi.dynamic.ReadResult("", {})
        live = {**_live(record), "owner": old.get("owner") or ""}
        return pulumi.dynamic.ReadResult(id_, _outputs(live, id_, bool(old.get("adopted"))))

    def update(
        self, id_: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.UpdateResult:
        """One PUT with every field (idempotent, so a retried run converges)."""
        inputs = normal_inputs(plain_props(news))
        client = provider_client()
        client.update_ip_list(id_, _body(inputs))
        snapshots.changed(client, "ip_lists", id_)
        adopted = bool(plain_props(olds).get("adopted"))
        return pulumi.dynamic.UpdateResult(_outputs(inputs, id_, adopted))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """DELETE the draft (gone already is fine), then provision the deletion, in one
        policy version with the deletions running at the same time (`deletion_batches`)."""
        owner = str(plain_props(props).get("owner") or "")
        delete_and_provision(provider_client(), "ip_lists", id_, owner)


class IpList(pulumi.dynamic.Resource, module="illumio", name="IpList"):
    """A draft IP list. `ip_ranges`: "10.0.0.0/8", "10.0.0.1-10.0.0.9", "!10.1.0.0/16"
    (an exclusion). `revision` digests the content; hand it to `PolicyProvision`."""

    href: pulumi.Output[str]
    name: pulumi.Output[str]
    description: pulumi.Output[str]
    ip_ranges: pulumi.Output[list[str]]
    fqdns: pulumi.Output[list[str]]
    revision: pulumi.Output[str]
    adopted: pulumi.Output[bool]
    owner: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        name: pulumi.Input[str],
        ip_ranges: pulumi.Input[list[pulumi.Input[str]]],
        fqdns: pulumi.Input[list[pulumi.Input[str]]] | None = None,
        description: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            "name": name,
            "description": description,
            "ip_ranges": ip_ranges,
            "fqdns": fqdns or [],
            "owner": default_owner(),
            "href": None,
            "revision": None,
            "adopted": None,
        }
        super().__init__(IpListProvider(), resource_name, props, opts)
