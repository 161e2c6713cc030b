"""ContainerCluster: an Illumio container cluster, whose token is captured once and kept secret.

The PCE shows `container_cluster_token` only in the POST response, so the
provider stores it (secret) at create and carries it across refresh and update.
An existing cluster of the same name can only be adopted with its token
(`existing_token`); `pulumi import` cannot work for dynamic providers.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi.dynamic

from providers.illumio import snapshots
from providers.illumio.limits import name_problem
from providers.illumio.models import last_segment
from providers.illumio.provider_base import (
    IllumioProvider,
    changed_keys,
    create_attempts,
    is_unknown,
    plain,
    plain_props,
    provider_client,
    secret,
)

if TYPE_CHECKING:
    from providers.illumio.models import ClusterRecord

TOKEN = "container_cluster_token"


class ClusterNameTakenError(Exception):
    """A cluster with this name exists and no token was given to adopt it."""


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _cluster_outputs(record: ClusterRecord, token: str | None, adopted: bool) -> dict[str, Any]:
    return {
        "href": record.href,
        "cluster_id": record.cluster_id,
        "name": record.name,
        "description": _text(record.description),
        TOKEN: secret(token),
        "online": record.online,
        "manager_type": record.manager_type,
        "kubelink_version": record.kubelink_version,
        "last_connected": record.last_connected,
        "adopted": adopted,
    }


def _name_taken_message(name: str, href: str) -> str:
    return (
        f"name: a container cluster named {name!r} already exists in the PCE ({href}). "
        "Its container_cluster_token was shown only when it was created and cannot be "
        "recovered, and `pulumi import` does not work for this resource. Either delete the "
        "existing cluster in the PCE or choose another name, or pass the token you saved "
        "as existing_token (a secret, e.g. pulumi.Output.secret(...) from a secret config "
        "value) to adopt it."
    )


class ContainerClusterProvider(IllumioProvider):
    """CRUD for `/orgs/<org>/container_clusters`."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        """Validate name/description/existing_token without any HTTP."""
        failures: list[pulumi.dynamic.CheckFailure] = []
        name = news.get("name")
        reason = None if is_unknown(name) else name_problem(name)
        if reason:
            failures.append(pulumi.dynamic.CheckFailure("name", reason))
        description = news.get("description")
        if (
            description is not None
            and not is_unknown(description)
            and not isinstance(plain(description), str)
        ):
            failures.append(
                pulumi.dynamic.CheckFailure("description", "description: must be a string")
            )
        token = news.get("existing_token")
        if (
            token is not None
            and not is_unknown(token)
            and (not isinstance(plain(token), str) or not plain(token))
        ):
            failures.append(
                pulumi.dynamic.CheckFailure(
                    "existing_token", "existing_token: must be the cluster's token (a string)"
                )
            )
        return pulumi.dynamic.CheckResult(news, failures)

    def diff(
        self, _id: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.DiffResult:
        """name and description update in place; a new existing_token matters only if adopted."""
        olds = plain_props(olds)
        news = plain_props(news)
        changed, unknown = changed_keys(olds, news, ("name", "description"), {"description": _text})
        token = news.get("existing_token")
        if olds.get("adopted") and token is not None:
            if is_unknown(token):
                unknown.append("existing_token")
            elif token != olds.get(TOKEN):
                changed.append("existing_token")
        return pulumi.dynamic.DiffResult(changes=bool(changed or unknown), replaces=[])

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        """Create the cluster (capturing its token) or adopt a same-named one with its token."""
        props = plain_props(props)
        name = str(props["name"])
        description = _text(props.get("description"))
        existing_token = props.get("existing_token") or None
        client = provider_client()

        existing = client.list_container_clusters(name=name)
        if existing:
            if existing_token is None:
                raise ClusterNameTakenError(_name_taken_message(name, existing[0].href))
            if len(existing) > 1:
                hrefs = ", ".join(c.href for c in existing)
                raise ClusterNameTakenError(
                    f"name: {len(existing)} container clusters are named {name!r} ({hrefs}); "
                    "cannot tell which one existing_token belongs to. Rename or delete the "
                    "others in the PCE first."
                )
            record = existing[0]
            if _text(record.description) != description:
                client.update_container_cluster(record.href, {"description": description})
                record = record.model_copy(update={"description": description})
            outs = _cluster_outputs(record, existing_token, adopted=True)
            return pulumi.dynamic.CreateResult(outs["href"], outs)

        record = self._create_fresh(name, description)
        token = record.container_cluster_token  # create_container_cluster insists on it
        outs = _cluster_outputs(record, token.get_secret_value() if token else None, adopted=False)
        return pulumi.dynamic.CreateResult(outs["href"], outs)

    @staticmethod
    def _create_fresh(name: str, description: str) -> ClusterRecord:
        """POST the cluster; if the response is lost, delete the token-less orphan and retry."""
        from providers.illumio.errors import PceOutcomeUnknownError

        client = provider_client()
        last_error: Exception | None = None
        attempts = create_attempts()
        for _attempt in range(attempts):
            try:
                return client.create_container_cluster(name, description)
            except PceOutcomeUnknownError as error:
                last_error = error
                # No cluster had this name before the POST: any that has it now is ours,
                # and its token is lost with the response. Remove it and try again.
                for orphan in client.list_container_clusters(name=name):
                    client.delete_container_cluster(orphan.href)
        raise RuntimeError(
            f"creating container cluster {name!r}: the PCE never answered the create request "
            f"after {attempts} attempts (orphans were removed); run `pulumi up` again"
        ) from last_error

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        """The live cluster with the stored token, or an empty id when it is gone."""
        from providers.illumio.errors import PceNotFoundError

        props = plain_props(props)
        try:
            record = provider_client().get_container_cluster(id_)
        except PceNotFoundError:
            return pulumi.dynamic.ReadResult("", {})
        outs = _cluster_outputs(record, props.get(TOKEN), adopted=bool(props.get("adopted")))
        return pulumi.dynamic.ReadResult(id_, outs)

    def update(
        self, id_: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.UpdateResult:
        """PUT the changed name/description (one request) and return the full outputs."""
        olds = plain_props(olds)
        news = plain_props(news)
        body: dict[str, Any] = {}
        if news.get("name") != olds.get("name"):
            body["name"] = news["name"]
        if _text(news.get("description")) != _text(olds.get("description")):
            body["description"] = _text(news.get("description"))
        if body:
            provider_client().update_container_cluster(id_, body)
        token = olds.get(TOKEN)
        if olds.get("adopted") and news.get("existing_token"):
            token = news["existing_token"]
        outs = {k: v for k, v in olds.items() if k != TOKEN}
        outs.update(
            {
                "href": id_,
                "cluster_id": last_segment(id_),
                "name": news["name"],
                "description": _text(news.get("description")),
                TOKEN: secret(token),
            }
        )
        return pulumi.dynamic.UpdateResult(outs)

    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        """Delete the cluster; already gone (404) is success."""
        from providers.illumio.errors import PceNotFoundError

        client = provider_client()
        with contextlib.suppress(PceNotFoundError):
            client.delete_container_cluster(id_)
        snapshots.cluster_deleted(client, id_)


class ContainerCluster(pulumi.dynamic.Resource, module="illumio", name="ContainerCluster"):
    """An Illumio container cluster; `container_cluster_token` is a secret output.

    `existing_token` (stored as a secret input) adopts a same-named cluster that was made
    elsewhere; the PCE cannot check a token, so it must be that cluster's real token.
    `adopted` says whether the cluster was adopted rather than created by this stack.
    """

    href: pulumi.Output[str]
    cluster_id: pulumi.Output[str]
    container_cluster_token: pulumi.Output[str]
    online: pulumi.Output[bool]
    manager_type: pulumi.Output[str | None]
    kubelink_version: pulumi.Output[str | None]
    last_connected: pulumi.Output[str | None]
    name: pulumi.Output[str]
    description: pulumi.Output[str]
    adopted: pulumi.Output[bool]

    def __init__(
        self,
        resource_name: str,
        *,
        name: pulumi.Input[str],
        description: pulumi.Input[str] | None = None,
        existing_token: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            "name": name,
            "description": description,
            "existing_token": (
                pulumi.Output.secret(existing_token) if existing_token is not None else None
            ),
            "href": None,
            "cluster_id": None,
            TOKEN: None,
            "online": None,
            "manager_type": None,
            "kubelink_version": None,
            "last_connected": None,
            "adopted": None,
        }
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=[TOKEN])
        )
        super().__init__(ContainerClusterProvider(), resource_name, props, opts)
