"""A tiny dynamic provider whose objects are JSON files, to test the engine stand-in itself.

`Item` objects live in the directory named by the stack config `toy:directory`, one
file per item. The store behaves like a small API with rules of its own: an item's
`slot` is exclusive (a second item claiming the same slot is refused), a name change
replaces the item, and the provider asks for delete-before-replace when a slot is
claimed. The test reads the directory to see what really happened.
"""

from __future__ import annotations

import json
import secrets
import uuid
from pathlib import Path
from typing import Any

import pulumi
import pulumi.dynamic
from pulumi.dynamic import ConfigureRequest, ResourceProvider
from pulumi.output import Unknown
from pulumi.runtime import rpc

CONFIG_KEY = "toy:directory"
_settings: dict[str, str] = {}


class SlotTakenError(Exception):
    """Another item already holds this slot."""


def store() -> Path:
    """The configured store directory (set by configure in the provider process)."""
    return Path(_settings[CONFIG_KEY])


def read_items(directory: Path) -> dict[str, dict[str, Any]]:
    """id -> stored item, for tests and for the provider."""
    return {p.stem: json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))}


def _plain(value: Any) -> Any:
    return rpc.unwrap_rpc_secret(value)


def _props(props: dict[str, Any]) -> dict[str, Any]:
    return {k: _plain(v) for k, v in props.items() if k != "__provider"}


def _outputs(item_id: str, item: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": item["name"],
        "value": item["value"],
        "secret_value": item.get("secret_value"),
        "slot": item.get("slot"),
        "legacy_diff": item.get("legacy_diff", False),
        "token": item["token"],
        "revision": item["revision"],
        "path": f"/items/{item_id}",
    }


class ItemProvider(ResourceProvider):
    """CRUD over the JSON files; keeps no instance attributes (it is pickled into state)."""

    def configure(self, req: ConfigureRequest) -> None:
        directory = req.config.get(CONFIG_KEY)
        if directory:
            _settings[CONFIG_KEY] = str(directory)

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        failures = []
        if not isinstance(news.get("name"), str) or not news["name"]:
            failures.append(pulumi.dynamic.CheckFailure("name", "name: required, a string"))
        value = _plain(news.get("value"))
        unknown = isinstance(value, Unknown) or value == rpc.UNKNOWN  # a preview placeholder
        if not unknown and not isinstance(value, str):
            failures.append(pulumi.dynamic.CheckFailure("value", "value: must be a string"))
        return pulumi.dynamic.CheckResult(news, failures)

    def diff(
        self, _id: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.DiffResult:
        old, new = _props(olds), _props(news)
        if new.get("legacy_diff"):
            return pulumi.dynamic.DiffResult(changes=None)
        changed = [k for k in ("name", "value", "secret_value", "slot") if old.get(k) != new.get(k)]
        replaces = [k for k in changed if k == "name"]
        return pulumi.dynamic.DiffResult(
            changes=bool(changed), replaces=replaces, delete_before_replace=bool(new.get("slot"))
        )

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        inputs = _props(props)
        if inputs.get("fail_create"):
            raise RuntimeError(f"item {inputs['name']}: creation refused on request")
        slot = inputs.get("slot")
        if slot and any(item.get("slot") == slot for item in read_items(store()).values()):
            raise SlotTakenError(f"slot {slot!r} is already held by another item")
        item_id = uuid.uuid4().hex[:12]
        item = {
            "name": inputs["name"],
            "value": inputs["value"],
            "secret_value": inputs.get("secret_value"),
            "slot": slot,
            "legacy_diff": bool(inputs.get("legacy_diff")),
            "token": secrets.token_hex(8),
            "revision": 1,
        }
        (store() / f"{item_id}.json").write_text(json.dumps(item))
        return pulumi.dynamic.CreateResult(item_id, _outputs(item_id, item))

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        path = store() / f"{id_}.json"
        if not path.exists():
            return pulumi.dynamic.ReadResult("", {})
        return pulumi.dynamic.ReadResult(id_, _outputs(id_, json.loads(path.read_text())))

    def update(
        self, id_: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.UpdateResult:
        path = store() / f"{id_}.json"
        item = json.loads(path.read_text())
        inputs = _props(news)
        item.update(
            value=inputs["value"],
            secret_value=inputs.get("secret_value"),
            slot=inputs.get("slot"),
            legacy_diff=bool(inputs.get("legacy_diff")),
            revision=item["revision"] + 1,
        )
        path.write_text(json.dumps(item))
        return pulumi.dynamic.UpdateResult(_outputs(id_, item))

    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        (store() / f"{id_}.json").unlink(missing_ok=True)


class Item(pulumi.dynamic.Resource, module="toy", name="Item"):
    """One stored item; `token` is minted by the store, `revision` counts updates."""

    name: pulumi.Output[str]
    value: pulumi.Output[str]
    secret_value: pulumi.Output[str | None]
    token: pulumi.Output[str]
    revision: pulumi.Output[int]
    path: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        name: pulumi.Input[str],
        value: pulumi.Input[str],
        secret_value: pulumi.Input[str] | None = None,
        slot: str | None = None,
        legacy_diff: bool = False,
        fail_create: bool = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            "name": name,
            "value": value,
            "secret_value": secret_value,
            "slot": slot,
            "legacy_diff": legacy_diff,
            "fail_create": fail_create or None,
            "token": None,
            "revision": None,
            "path": None,
        }
        super().__init__(ItemProvider(), resource_name, props, opts)
