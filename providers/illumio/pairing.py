"""PairingProfile and PairingKey: what Kubelink/C-VEN need to pair a cluster with the PCE.

A pairing key (`activation_code`) is minted by a POST on its profile and can never
be read back, so the provider keeps the stored code on refresh and marks it
secret. Changing the profile of a key mints a new key (replace).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi.dynamic

from providers.illumio import snapshots
from providers.illumio.limits import enforcement_problem, name_problem, visibility_problem
from providers.illumio.profile_payload import normal_assign, pairing_label_refs
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

PROFILE_KEYS = ("name", "enabled", "enforcement_mode", "visibility_level", "assign_labels")
PROFILE_DEFAULTS: dict[str, Any] = {
    "enabled": True,
    "enforcement_mode": "visibility_only",
    "visibility_level": "flow_summary",
    "assign_labels": {},
}
CODE = "activation_code"


def pairing_profile_inputs(props: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in props.items() if k != "__provider"}
    for key, default in PROFILE_DEFAULTS.items():
        if out.get(key) is None:
            out[key] = default
    if not is_unknown(out["assign_labels"]):
        out["assign_labels"] = normal_assign(out["assign_labels"])
    return out


def _label_hrefs(assign: Any) -> list[str]:
    return [ref["href"] for ref in pairing_label_refs(assign)]


def pairing_profile_body(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The POST/PUT body for a pairing profile, from normalised inputs."""
    return {
        "name": inputs["name"],
        "enabled": bool(inputs["enabled"]),
        "enforcement_mode": inputs["enforcement_mode"],
        "visibility_level": inputs["visibility_level"],
        "labels": pairing_label_refs(inputs["assign_labels"]),
    }


def _profile_outputs(inputs: Mapping[str, Any], href: str) -> dict[str, Any]:
    outs = {k: inputs.get(k) for k in PROFILE_KEYS}
    outs["href"] = href
    outs["label_hrefs"] = _label_hrefs(inputs["assign_labels"])
    return outs


def _normal_hrefs(value: Any) -> list[str]:
    return sorted(set(value or []))


class PairingProfileProvider(IllumioProvider):
    """CRUD for `/orgs/<org>/pairing_profiles`."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        """Validate name, modes and label hrefs (no HTTP)."""
        failures: list[pulumi.dynamic.CheckFailure] = []
        inputs = pairing_profile_inputs(plain_props(news))
        name = inputs.get("name")
        reason = None if is_unknown(name) else name_problem(name)
        if reason:
            failures.append(pulumi.dynamic.CheckFailure("name", reason))
        if not is_unknown(inputs["enabled"]) and not isinstance(inputs["enabled"], bool):
            failures.append(
                pulumi.dynamic.CheckFailure("enabled", "enabled: must be true or false")
            )
        for prop, reason in (
            ("enforcement_mode", enforcement_problem(inputs["enforcement_mode"])),
            ("visibility_level", visibility_problem(inputs["visibility_level"])),
        ):
            if reason and not is_unknown(inputs[prop]):
                failures.append(pulumi.dynamic.CheckFailure(prop, reason))
        assign = inputs["assign_labels"]
        if not is_unknown(assign):
            for key, href in assign.items():
                if not href:
                    failures.append(
                        pulumi.dynamic.CheckFailure(
                            "assign_labels",
                            f"assign_labels[{key!r}]: a pairing profile needs a label href",
                        )
                    )
        return pulumi.dynamic.CheckResult(news, failures)

    def diff(
        self, _id: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.DiffResult:
        """Everything updates in place; labels compare as the set of hrefs the PCE holds."""
        old = plain_props(olds)
        new = pairing_profile_inputs(plain_props(news))
        changed, unknown = changed_keys(
            old, new, ("name", "enabled", "enforcement_mode", "visibility_level")
        )
        if is_unknown(new["assign_labels"]):
            unknown.append("assign_labels")
        elif _normal_hrefs(old.get("label_hrefs")) != _label_hrefs(new["assign_labels"]):
            changed.append("assign_labels")
        return pulumi.dynamic.DiffResult(changes=bool(changed or unknown), replaces=[])

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        """POST the profile; after a lost response, use the profile it made."""
        from providers.illumio.errors import PceOutcomeUnknownError

        inputs = pairing_profile_inputs(plain_props(props))
        client = provider_client()
        body = pairing_profile_body(inputs)
        last_error: Exception | None = None
        attempts = create_attempts()
        for _attempt in range(attempts):
            try:
                record = client.create_pairing_profile(body)
            except PceOutcomeUnknownError as error:
                last_error = error
                found = client.list_pairing_profiles(name=inputs["name"])
                if not found:
                    continue
                # Names are not unique in the PCE: the one our POST just made is the newest.
                record = max(found, key=lambda p: p.created_at or "")
            snapshots.created(client, "pairing_profiles", record)
            return pulumi.dynamic.CreateResult(record.href, _profile_outputs(inputs, record.href))
        raise RuntimeError(
            f"pairing profile {inputs['name']!r}: the PCE never answered the create request "
            f"after {attempts} attempts"
        ) from last_error

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        """The live profile, or an empty id when it is gone."""
        stored = plain_props(props)
        record = _live_profile(id_)
        if record is None:
            return pulumi.dynamic.ReadResult("", {})
        live_hrefs = sorted({ref.href for ref in record.labels})
        assign = {
            k: h for k, h in normal_assign(stored.get("assign_labels")).items() if h in live_hrefs
        }
        outs = {
            "href": id_,
            "name": record.name,
            "enabled": record.enabled,
            "enforcement_mode": record.enforcement_mode,
            "visibility_level": record.visibility_level,
            "assign_labels": assign,
            "label_hrefs": live_hrefs,
        }
        return pulumi.dynamic.ReadResult(id_, outs)

    def update(
        self, id_: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.UpdateResult:
        """One PUT with every field; returns the full outputs."""
        inputs = pairing_profile_inputs(plain_props(news))
        client = provider_client()
        client.update_pairing_profile(id_, pairing_profile_body(inputs))
        snapshots.changed(client, "pairing_profiles", id_)
        return pulumi.dynamic.UpdateResult(_profile_outputs(inputs, id_))

    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        """Delete the profile; already gone (404) is success."""
        from providers.illumio.errors import PceNotFoundError

        client = provider_client()
        with contextlib.suppress(PceNotFoundError):
            client.delete_pairing_profile(id_)
        snapshots.deleted(client, "pairing_profiles", id_)


def _live_profile(href: str) -> Any:
    """The pairing profile as the PCE holds it, or None when it is gone: from this
    operation's snapshot of the pairing profiles when there is one, else one GET."""

    client = provider_client()
    return snapshots.read_through(
        client,
        "pairing_profiles",
        snapshots.pairing_profiles(client),
        href,
        client.get_pairing_profile,
    )


class PairingKeyProvider(IllumioProvider):
    """Mints a pairing key on a profile; the code cannot be read back, so it is kept."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        """pairing_profile_href is required (no HTTP)."""
        href = news.get("pairing_profile_href")
        failures = []
        if not is_unknown(href) and (not isinstance(plain(href), str) or not plain(href)):
            failures.append(
                pulumi.dynamic.CheckFailure(
                    "pairing_profile_href", "pairing_profile_href: required, a pairing profile href"
                )
            )
        return pulumi.dynamic.CheckResult(news, failures)

    def diff(
        self, _id: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.DiffResult:
        """Another profile means another key: replace."""
        changed, unknown = changed_keys(
            plain_props(olds), plain_props(news), ("pairing_profile_href",)
        )
        replaces = changed + unknown
        return pulumi.dynamic.DiffResult(changes=bool(replaces), replaces=replaces)

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        """POST `<profile>/pairing_key`: a new code each time (a lost one is simply re-minted)."""
        from providers.illumio.errors import PceOutcomeUnknownError

        profile = str(plain_props(props)["pairing_profile_href"])
        client = provider_client()
        last_error: Exception | None = None
        attempts = create_attempts()
        for _attempt in range(attempts):
            try:
                code = client.create_pairing_key(profile)
            except PceOutcomeUnknownError as error:
                # A key minted without its answer is unusable to us; mint another.
                last_error = error
                continue
            id_ = f"{profile}/pairing_key/{uuid.uuid4()}"
            outs = {"pairing_profile_href": profile, CODE: secret(str(code))}
            return pulumi.dynamic.CreateResult(id_, outs)
        raise RuntimeError(
            f"pairing key for {profile}: the PCE never answered after {attempts} attempts"
        ) from last_error

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        """Keep the stored code while the profile exists; a deleted profile drops the key."""
        stored = plain_props(props)
        profile = str(stored.get("pairing_profile_href") or id_.split("/pairing_key/", 1)[0])
        if _live_profile(profile) is None:
            return pulumi.dynamic.ReadResult("", {})
        outs = {"pairing_profile_href": profile, CODE: secret(stored.get(CODE))}
        return pulumi.dynamic.ReadResult(id_, outs)

    def update(
        self, id_: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.UpdateResult:
        """Nothing updates in place; return the stored outputs (no HTTP)."""
        stored = plain_props(olds)
        outs = {
            "pairing_profile_href": stored.get("pairing_profile_href"),
            CODE: secret(stored.get(CODE)),
        }
        return pulumi.dynamic.UpdateResult(outs)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """The PCE has no call to revoke one key: forgetting it is all there is (no HTTP)."""


class PairingProfile(pulumi.dynamic.Resource, module="illumio", name="PairingProfile"):
    """A pairing profile for the cluster's C-VENs; `assign_labels` maps key to label href."""

    href: pulumi.Output[str]
    name: pulumi.Output[str]
    enabled: pulumi.Output[bool]
    enforcement_mode: pulumi.Output[str]
    visibility_level: pulumi.Output[str]
    assign_labels: pulumi.Output[dict[str, str]]
    label_hrefs: pulumi.Output[list[str]]

    def __init__(
        self,
        resource_name: str,
        *,
        name: pulumi.Input[str],
        enabled: pulumi.Input[bool] = True,
        enforcement_mode: pulumi.Input[str] = "visibility_only",
        visibility_level: pulumi.Input[str] = "flow_summary",
        assign_labels: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            "name": name,
            "enabled": enabled,
            "enforcement_mode": enforcement_mode,
            "visibility_level": visibility_level,
            "assign_labels": pulumi.Output.from_input(assign_labels or {}).apply(normal_assign),
            "href": None,
            "label_hrefs": None,
        }
        super().__init__(PairingProfileProvider(), resource_name, props, opts)


class PairingKey(pulumi.dynamic.Resource, module="illumio", name="PairingKey"):
    """A pairing key (`activation_code`, secret) minted on a pairing profile."""

    pairing_profile_href: pulumi.Output[str]
    activation_code: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        pairing_profile_href: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {"pairing_profile_href": pairing_profile_href, CODE: None}
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=[CODE])
        )
        super().__init__(PairingKeyProvider(), resource_name, props, opts)
