"""Label: get-or-create an Illumio label; destroy removes it only if this stack made it.

Creation is safe against a concurrent create of the same key and value: the PCE
refuses the duplicate (406) and the provider looks the label up and uses it. A
label still referenced elsewhere is left in place with a warning on destroy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pulumi
import pulumi.dynamic

from providers.illumio import snapshots
from providers.illumio.limits import label_key_problem, label_value_problem
from providers.illumio.provider_base import (
    IllumioProvider,
    changed_keys,
    create_attempts,
    is_unknown,
    plain_props,
    provider_client,
    warn,
)

if TYPE_CHECKING:
    from providers.illumio.models import LabelRecord


class LabelLookupError(Exception):
    """The PCE refused a label and no label with that key and value could be found."""


def _label_outputs(record: LabelRecord, created: bool) -> dict[str, Any]:
    return {"href": record.href, "key": record.key, "value": record.value, "created": created}


def _find(key: str, value: str, *, fresh: bool = True) -> LabelRecord | None:
    """The label with exactly this key and value, or None: one filtered GET when `fresh`,
    else from this operation's label snapshot (one collection read for all labels)."""
    client = provider_client()
    snapshot = None if fresh else snapshots.labels(client)
    if snapshot is not None:
        found = snapshot.find(lambda r: r.key == key and r.value == value)
    else:
        found = client.find_labels(key, value)
    return next(iter(found), None)


class LabelProvider(IllumioProvider):
    """Get-or-create for `/orgs/<org>/labels`."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        """key and value are required strings within the PCE's limits (`limits`)."""
        failures: list[pulumi.dynamic.CheckFailure] = []
        for prop, problem in (("key", label_key_problem), ("value", label_value_problem)):
            value = news.get(prop)
            reason = None if is_unknown(value) else problem(value, prop)
            if reason:
                failures.append(pulumi.dynamic.CheckFailure(prop, reason))
        return pulumi.dynamic.CheckResult(news, failures)

    def diff(
        self, _id: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.DiffResult:
        """A different key or value is a different label: replace."""
        olds = plain_props(olds)
        news = plain_props(news)
        changed, unknown = changed_keys(olds, news, ("key", "value"))
        replaces = changed + unknown
        return pulumi.dynamic.DiffResult(changes=bool(replaces), replaces=replaces)

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        """Use the label if it exists (not ours); else POST it (ours).

        Looking up first is what makes `created` trustworthy: a POST whose answer is lost
        may have been refused as a duplicate, so finding the label afterwards proves it is
        ours only because it was absent just before. A 406 duplicate (another stack won a
        race) means use the one that exists, not ours. The first look is in this operation's
        label snapshot (`snapshots`, which holds the labels this operation created too);
        every look after a refusal or a lost answer is a fresh GET.
        """
        from providers.illumio.errors import PceConflictError, PceOutcomeUnknownError

        props = plain_props(props)
        key, value = str(props["key"]), str(props["value"])
        client = provider_client()
        existing = _find(key, value, fresh=False)
        if existing is not None:
            outs = _label_outputs(existing, created=False)
            return pulumi.dynamic.CreateResult(outs["href"], outs)
        last_error: Exception | None = None
        attempts = create_attempts()
        for _attempt in range(attempts):
            try:
                record = client.create_label(key, value)
                snapshots.created(client, "labels", record)
                outs = _label_outputs(record, created=True)
                return pulumi.dynamic.CreateResult(outs["href"], outs)
            except PceConflictError as error:
                existing = _find(key, value)
                if existing is None:
                    raise LabelLookupError(
                        f"label {key}={value}: the PCE refused it ({error}) and no label with "
                        "that key and value exists"
                    ) from error
                outs = _label_outputs(existing, created=False)
                return pulumi.dynamic.CreateResult(outs["href"], outs)
            except PceOutcomeUnknownError as error:
                last_error = error
                existing = _find(key, value)
                if existing is not None:
                    # Our POST was applied and its answer lost: the label is ours.
                    outs = _label_outputs(existing, created=True)
                    return pulumi.dynamic.CreateResult(outs["href"], outs)
        raise LabelLookupError(
            f"label {key}={value}: the PCE never answered the create request after "
            f"{attempts} attempts; run `pulumi up` again"
        ) from last_error

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        """The live label (keeping `created`), or an empty id when it is gone."""

        props = plain_props(props)
        client = provider_client()
        record = snapshots.read_through(
            client, "labels", snapshots.labels(client), id_, client.get_label
        )
        if record is None:
            return pulumi.dynamic.ReadResult("", {})
        return pulumi.dynamic.ReadResult(id_, _label_outputs(record, bool(props.get("created"))))

    def update(
        self, id_: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.UpdateResult:
        """Nothing updates in place (key/value replace); return the full outputs unchanged."""
        outs = plain_props(olds)
        outs["href"] = id_
        return pulumi.dynamic.UpdateResult(outs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Delete the label if this stack created it; in use or already gone is not a failure."""
        from providers.illumio.errors import PceConflictError, PceNotFoundError

        props = plain_props(props)
        if not props.get("created"):
            return
        client = provider_client()
        try:
            client.delete_label(id_)
        except PceNotFoundError:
            pass
        except PceConflictError:
            warn(
                f"label {props.get('key')}={props.get('value')} ({id_}) is still in use in the "
                "PCE and was left in place; delete it there once nothing references it"
            )
            return
        snapshots.deleted(client, "labels", id_)


class Label(pulumi.dynamic.Resource, module="illumio", name="Label"):
    """An Illumio label (get-or-create); `created` says whether this stack made it."""

    href: pulumi.Output[str]
    key: pulumi.Output[str]
    value: pulumi.Output[str]
    created: pulumi.Output[bool]

    def __init__(
        self,
        resource_name: str,
        *,
        key: pulumi.Input[str],
        value: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {"key": key, "value": value, "href": None, "created": None}
        super().__init__(LabelProvider(), resource_name, props, opts)
