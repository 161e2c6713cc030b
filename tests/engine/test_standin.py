"""The engine stand-in behaves like `pulumi up/preview/refresh/destroy` on a tiny program.

The toy provider keeps its items as JSON files, so each test checks what really
happened in the store, not only what the stand-in says it did.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pulumi
import pytest

from tests.engine.standin import DeploymentError, EngineStandIn, RunResult
from tests.engine.toy_provider import Item, read_items

SECRET = "hush-0f9e8d7c"


@pytest.fixture
def engine(toy_store: Path) -> EngineStandIn:
    return EngineStandIn(config={"toy:directory": str(toy_store)})


def items_program(
    *,
    a_name: str = "a",
    a_value: str = "1",
    a_slot: str | None = None,
    with_b: bool = True,
    b_fails: bool = False,
) -> Callable[[], None]:
    """Item a (a secret input, its minted token an additional secret output) and item b,
    whose value is a's `path` output (a real dependency)."""

    def program() -> None:
        a = Item(
            "a",
            name=a_name,
            value=a_value,
            secret_value=pulumi.Output.secret(SECRET),
            slot=a_slot,
            opts=pulumi.ResourceOptions(additional_secret_outputs=["token"]),
        )
        pulumi.export("a_path", a.path)
        pulumi.export("a_token", a.token)
        pulumi.export("a_secret_value", a.secret_value)
        if with_b:
            b = Item("b", name="b", value=a.path, fail_create=b_fails)
            pulumi.export("b_value", b.value)
            pulumi.export("b_token", b.token)

    return program


def by_name(store: Path) -> dict[str, dict]:
    """Stored items keyed by their name, with their id."""
    return {item["name"]: {**item, "id": item_id} for item_id, item in read_items(store).items()}


def position(result: RunResult, method: str, name: str) -> int:
    return next(i for i, c in enumerate(result.calls) if (c.method, c.name) == (method, name))


def test_first_up_creates_each_item_once_and_feeds_real_outputs_to_dependents(
    engine: EngineStandIn, toy_store: Path
) -> None:
    result = engine.up(items_program())

    assert result.methods() == ["Configure", "Check", "Create", "Check", "Create"]
    stored = by_name(toy_store)
    assert sorted(stored) == ["a", "b"]
    assert stored["b"]["value"] == f"/items/{stored['a']['id']}", "b got a's real output"
    assert result.exports["b_value"] == result.exports["a_path"] == f"/items/{stored['a']['id']}"
    assert engine.state.named("a").id == stored["a"]["id"]
    assert engine.state.named("b").dependencies == [engine.state.named("a").urn]


def test_second_up_without_changes_only_checks_and_diffs(
    engine: EngineStandIn, toy_store: Path
) -> None:
    first = engine.up(items_program())
    before = read_items(toy_store)

    second = engine.up(items_program())

    assert set(second.methods()) == {"Configure", "Check", "Diff"}
    assert second.count("Check") == second.count("Diff") == 2
    assert [step.op for step in second.steps] == ["same", "same"]
    assert read_items(toy_store) == before, "the store was not touched"
    assert second.exports["a_token"] == first.exports["a_token"], "old outputs are kept"


def test_changed_input_updates_only_that_item_in_place(
    engine: EngineStandIn, toy_store: Path
) -> None:
    engine.up(items_program())
    ids = {name: item["id"] for name, item in by_name(toy_store).items()}

    result = engine.up(items_program(a_value="2"))

    assert result.count("Update") == 1 and result.count("Create") == result.count("Delete") == 0
    assert result.ops("update") == ["a"] and result.ops("same") == ["b"]
    stored = by_name(toy_store)
    assert stored["a"]["value"] == "2" and stored["a"]["revision"] == 2
    assert {name: item["id"] for name, item in stored.items()} == ids


def test_replacement_creates_the_new_item_before_deleting_the_old(
    engine: EngineStandIn, toy_store: Path
) -> None:
    engine.up(items_program())
    old_id = by_name(toy_store)["a"]["id"]

    result = engine.up(items_program(a_name="a2"))

    assert position(result, "Create", "a") < position(result, "Delete", "a")
    assert position(result, "Delete", "a") == len(result.calls) - 1, "old one deleted last"
    stored = by_name(toy_store)
    assert sorted(stored) == ["a2", "b"] and stored["a2"]["id"] != old_id
    # b's input was a's path: it follows the replacement with an update.
    assert result.ops("replace") == ["a"] and result.ops("update") == ["b"]
    assert stored["b"]["value"] == f"/items/{stored['a2']['id']}"


def test_delete_before_replace_when_the_provider_asks_for_it(
    engine: EngineStandIn, toy_store: Path
) -> None:
    engine.up(items_program(a_slot="s1", with_b=False))

    result = engine.up(items_program(a_name="a2", a_slot="s1", with_b=False))

    assert position(result, "Delete", "a") < position(result, "Create", "a")
    assert [item["name"] for item in read_items(toy_store).values()] == ["a2"]

    # The slot rule is real: creating a second holder first would have been refused.
    def clash() -> None:
        items_program(a_name="a2", a_slot="s1", with_b=False)()
        Item("c", name="c", value="x", slot="s1")

    with pytest.raises(DeploymentError, match="slot 's1' is already held"):
        engine.up(clash)


def test_removed_items_are_deleted_after_the_program_dependents_first(
    engine: EngineStandIn, toy_store: Path
) -> None:
    engine.up(items_program())

    dropped_b = engine.up(items_program(with_b=False))
    assert dropped_b.ops("delete") == ["b"] and dropped_b.count("Delete") == 1
    assert sorted(by_name(toy_store)) == ["a"]
    assert [r.name for r in engine.state.resources.values()] == ["a"]

    engine.up(items_program())
    dropped_all = engine.up(lambda: None)
    assert position(dropped_all, "Delete", "b") < position(dropped_all, "Delete", "a")
    assert read_items(toy_store) == {} and len(engine.state) == 0


def test_destroy_deletes_everything_dependents_first(
    engine: EngineStandIn, toy_store: Path
) -> None:
    engine.up(items_program())

    result = engine.destroy()

    assert [(c.method, c.name) for c in result.calls] == [
        ("Configure", ""),
        ("Delete", "b"),
        ("Delete", "a"),
    ]
    assert read_items(toy_store) == {} and len(engine.state) == 0
    assert engine.destroy().calls == [], "nothing left: no provider host is even started"


def test_secrets_stay_secret_in_state_and_in_the_programs_view(
    engine: EngineStandIn, toy_store: Path
) -> None:
    result = engine.up(items_program())
    a, b = engine.state.named("a"), engine.state.named("b")

    # The host does not accept secrets: it got plain values, as from the real engine.
    assert by_name(toy_store)["a"]["secret_value"] == SECRET
    # The engine re-marks the output named like a secret input, and additional outputs.
    assert a.is_secret("secret_value") and a.is_secret("token") and a.is_secret("__provider")
    assert not b.is_secret("token"), "b asked for no additional secret outputs"
    assert {"a_token", "a_secret_value"} <= result.secret_exports
    assert "b_token" not in result.secret_exports
    plaintext = engine.state.plaintext()
    assert SECRET not in plaintext and result.exports["a_token"] not in plaintext
    assert result.exports["b_token"] in plaintext, "the plaintext view does show plain values"


def test_preview_checks_and_diffs_without_changing_anything(
    engine: EngineStandIn, toy_store: Path
) -> None:
    planned = engine.preview(items_program())
    assert set(planned.methods()) == {"Configure", "Check"}
    assert [step.op for step in planned.steps] == ["create", "create"]
    assert read_items(toy_store) == {} and len(engine.state) == 0

    engine.up(items_program())
    before = read_items(toy_store)
    change = engine.preview(items_program(a_value="2"))
    assert set(change.methods()) == {"Configure", "Check", "Diff"}
    # As with the real engine, a provider without preview support yields its new inputs as
    # the planned outputs: a's `path` is unknown, so b (which reads it) plans an update too.
    assert change.ops("update") == ["a", "b"]
    assert read_items(toy_store) == before
    assert engine.up(items_program()).changed() == [], "preview left the state alone"


def test_refresh_reads_drift_and_drops_what_is_gone(engine: EngineStandIn, toy_store: Path) -> None:
    engine.up(items_program())
    stored = by_name(toy_store)
    (toy_store / f"{stored['b']['id']}.json").unlink()
    a_file = toy_store / f"{stored['a']['id']}.json"
    a_file.write_text(json.dumps({**json.loads(a_file.read_text()), "value": "drifted"}))

    refreshed = engine.refresh()

    assert refreshed.count("Read") == 2
    assert [r.name for r in engine.state.resources.values()] == ["a"]
    assert engine.state.named("a").plain_outputs["value"] == "drifted"
    assert engine.state.named("a").is_secret("token"), "refresh keeps secret outputs secret"

    repaired = engine.up(items_program())
    assert repaired.ops("create") == ["b"] and repaired.ops("update") == ["a"]
    assert by_name(toy_store)["a"]["value"] == "1"


def test_a_failed_create_keeps_what_was_made_and_the_next_up_converges(
    engine: EngineStandIn, toy_store: Path
) -> None:
    with pytest.raises(DeploymentError, match="item b: creation refused") as failed:
        engine.up(items_program(b_fails=True))
    assert failed.value.result.count("Create") == 2
    assert [r.name for r in engine.state.resources.values()] == ["a"]

    result = engine.up(items_program())
    assert result.ops("create") == ["b"] and result.ops("same") == ["a"]
    assert sorted(by_name(toy_store)) == ["a", "b"]


def test_a_check_failure_stops_before_anything_is_created(
    engine: EngineStandIn, toy_store: Path
) -> None:
    with pytest.raises(DeploymentError, match="value: must be a string") as failed:
        engine.up(lambda: Item("bad", name="bad", value=5))  # type: ignore[arg-type]
    assert failed.value.result.count("Create") == 0
    assert read_items(toy_store) == {} and len(engine.state) == 0


def test_an_unknown_diff_falls_back_to_comparing_inputs(
    engine: EngineStandIn, toy_store: Path
) -> None:
    def program(value: str) -> Callable[[], None]:
        return lambda: Item("legacy", name="legacy", value=value, legacy_diff=True)

    engine.up(program("1"))
    assert engine.up(program("1")).changed() == []
    assert engine.up(program("2")).ops("update") == ["legacy"]
    assert by_name(toy_store)["legacy"]["revision"] == 2


class Bundle(pulumi.ComponentResource):
    """A component with one item inside, to check URNs and component ordering."""

    def __init__(self, name: str) -> None:
        super().__init__("toy:index:Bundle", name, None, None)
        Item(
            f"{name}-item", name=f"{name}-item", value="v", opts=pulumi.ResourceOptions(parent=self)
        )
        self.register_outputs({})


def test_component_children_get_engine_urns_and_die_before_their_parent(
    engine: EngineStandIn, toy_store: Path
) -> None:
    engine.up(lambda: Bundle("box"))

    child = engine.state.named("box-item")
    assert child.urn == (
        "urn:pulumi:e2e::tenantguard::toy:index:Bundle$pulumi-python:dynamic/toy:Item::box-item"
    )
    assert engine.up(lambda: Bundle("box")).changed() == []

    destroyed = engine.destroy()
    assert [step.name for step in destroyed.steps] == ["box-item", "box"]
    assert read_items(toy_store) == {}


def test_resource_options_the_engine_applies(engine: EngineStandIn, toy_store: Path) -> None:
    def program(value: str, **options: object) -> Callable[[], None]:
        opts = pulumi.ResourceOptions(**options)  # type: ignore[arg-type]
        return lambda: Item("opt", name="opt", value=value, opts=opts)

    engine.up(program("1", ignore_changes=["value"]))
    ignored = engine.up(program("2", ignore_changes=["value"]))
    assert ignored.changed() == [] and by_name(toy_store)["opt"]["value"] == "1"

    engine.up(program("1", protect=True))
    with pytest.raises(DeploymentError, match="protected"):
        engine.destroy()
    assert sorted(by_name(toy_store)) == ["opt"] and len(engine.state) == 1

    engine.up(program("1", retain_on_delete=True))
    kept = engine.destroy()
    assert kept.count("Delete") == 0 and len(engine.state) == 0
    assert sorted(by_name(toy_store)) == ["opt"], "retained: forgotten, not deleted"


def test_deleted_with_skips_the_delete_only_when_its_owner_goes_too(
    engine: EngineStandIn, toy_store: Path
) -> None:
    def program(*, with_child: bool = True) -> Callable[[], None]:
        def declare() -> None:
            owner = Item("owner", name="owner", value="1")
            if with_child:
                Item(
                    "child",
                    name="child",
                    value="2",
                    opts=pulumi.ResourceOptions(deleted_with=owner),
                )

        return declare

    engine.up(program())
    dropped = engine.up(program(with_child=False))  # the owner stays: the child's own Delete
    assert dropped.count("Delete") == 1 and sorted(by_name(toy_store)) == ["owner"]

    engine.up(program())
    destroyed = engine.destroy()
    assert [c.name for c in destroyed.calls if c.method == "Delete"] == ["owner"]
    assert len(engine.state) == 0
    assert sorted(by_name(toy_store)) == ["child"], "taken along: no Delete of its own was sent"
