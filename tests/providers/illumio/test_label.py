"""Label (get-or-create) through the real dynamic-provider host, against the PCE emulator."""

from __future__ import annotations

import threading

import pytest

from providers.illumio.label import LabelProvider
from tests.providers.illumio.dynamic_host import UNKNOWN, DynamicHost, ResourceState, changes

PROVIDER = LabelProvider()


def _labels(emu, key: str, value: str) -> list[dict]:
    return [lab for lab in emu.labels.values() if lab["key"] == key and lab["value"] == value]


def test_lifecycle_counts_requests(emu, host: DynamicHost, pce) -> None:
    emu.reset_counts()
    assert host.check(PROVIDER, {"key": "env", "value": "staging"}).failures == []
    assert emu.count() == 0, "configure and check must not call the PCE"

    state = host.create(PROVIDER, {"key": "env", "value": "staging"})
    assert emu.count("GET") == 1 and emu.count("POST") == 1  # absent? then create
    assert state.id in emu.labels
    assert state.plain_outputs == {
        "href": state.id,
        "key": "env",
        "value": "staging",
        "created": True,
    }

    emu.reset_counts()
    assert changes(host.check_and_diff(PROVIDER, state, {"key": "env", "value": "staging"})) == (
        "none"
    )
    assert emu.count() == 0

    # The only "update" a label has is another value: a replacement (create new, delete old).
    diff = host.check_and_diff(PROVIDER, state, {"key": "env", "value": "qa"})
    assert changes(diff) == "some" and list(diff.replaces) == ["value"]
    host.next_operation()  # the `pulumi up` that replaces it: a new provider process
    emu.reset_counts()
    replacement = host.create(PROVIDER, {"key": "env", "value": "qa"}, name="res")
    host.delete(state)
    assert emu.count() == 3 and emu.count("POST") == 1 and emu.count("DELETE") == 1
    assert state.id not in emu.labels and replacement.id in emu.labels

    host.next_operation()  # `pulumi refresh`: a new provider process
    emu.reset_counts()
    refreshed = host.read(replacement)
    assert refreshed is not None and refreshed.plain_outputs == replacement.plain_outputs
    assert emu.count() == 1 and emu.count("GET") == 1
    emu.reset_counts()
    assert changes(host.check_and_diff(PROVIDER, refreshed, {"key": "env", "value": "qa"})) == (
        "none"
    )
    assert emu.count() == 0

    pce.delete_label(replacement.id)  # out of band
    host.next_operation()  # the `pulumi refresh` that finds it
    emu.reset_counts()
    assert host.read(refreshed) is None
    assert emu.count() == 1

    recreated = host.create(PROVIDER, {"key": "env", "value": "qa"})
    assert recreated.id in emu.labels and recreated.plain_outputs["created"] is True
    emu.reset_counts()
    host.delete(recreated)
    assert emu.count() == 1 and recreated.id not in emu.labels
    host.delete(recreated)  # 404 is success


def test_existing_label_is_used_and_never_deleted(emu, host) -> None:
    href = emu.add_label("app", "payments")
    emu.reset_counts()
    state = host.create(PROVIDER, {"key": "app", "value": "payments"})
    assert state.id == href
    assert state.plain_outputs["created"] is False
    assert emu.count("GET") == 1 and emu.count("POST") == 0  # found: nothing to create
    emu.reset_counts()
    host.delete(state)
    assert emu.count() == 0
    assert href in emu.labels, "a label this stack did not create is left alone"


def test_partial_value_match_is_not_taken_for_the_label(emu, host) -> None:
    other = emu.add_label("env", "preprod")
    state = host.create(PROVIDER, {"key": "env", "value": "prod"})
    assert state.id != other and state.plain_outputs["created"] is True
    assert len(_labels(emu, "env", "prod")) == 1


def test_two_concurrent_creates_share_one_label(emu, host) -> None:
    emu.set_latency(0.2)  # widen the race window: both POSTs are in flight together
    results: list[ResourceState] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def create(name: str) -> None:
        try:
            barrier.wait()
            results.append(host.create(PROVIDER, {"key": "env", "value": "race"}, name=name))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=create, args=(f"label-{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(results) == 2
    assert len(_labels(emu, "env", "race")) == 1
    assert results[0].id == results[1].id
    assert sorted(r.plain_outputs["created"] for r in results) == [False, True]


def test_label_in_use_stays_with_a_warning_and_destroy_succeeds(emu, host) -> None:
    state = host.create(PROVIDER, {"key": "role", "value": "db"})
    emu.reference_label(state.id)
    host.delete(state)  # must not raise
    assert state.id in emu.labels
    stderr = host.stderr()
    assert "warning: label role=db" in stderr and "still in use" in stderr


def test_lost_post_response_converges_without_duplicates(emu, host) -> None:
    emu.drop_response_after_apply(method="POST", path_contains="/labels", count=1)
    state = host.create(PROVIDER, {"key": "loc", "value": "fra"})
    found = _labels(emu, "loc", "fra")
    assert [lab["href"] for lab in found] == [state.id]
    assert state.plain_outputs["created"] is True


def test_rate_limit_storm_and_server_errors_converge(emu, host) -> None:
    emu.inject_rate_limit(5, retry_after=0)
    first = host.create(PROVIDER, {"key": "env", "value": "storm"})
    emu.inject_failures(2, status=503, method="POST")
    second = host.create(PROVIDER, {"key": "env", "value": "burst"})
    assert len(_labels(emu, "env", "storm")) == 1 and first.id in emu.labels
    assert len(_labels(emu, "env", "burst")) == 1 and second.id in emu.labels


def test_preview_with_unknown_value_plans_a_replacement(emu, host) -> None:
    state = host.create(PROVIDER, {"key": "env", "value": "known"})
    emu.reset_counts()
    diff = host.check_and_diff(PROVIDER, state, {"key": "env", "value": UNKNOWN})
    assert changes(diff) == "some" and list(diff.replaces) == ["value"]
    assert emu.count() == 0


@pytest.mark.parametrize(
    ("news", "prop"),
    [
        ({"key": "", "value": "x"}, "key"),
        ({"key": "k" * 65, "value": "x"}, "key"),
        ({"key": "env", "value": ""}, "value"),
    ],
)
def test_check_names_the_bad_property(emu, host, news, prop) -> None:
    outcome = host.check(PROVIDER, news)
    assert [p for p, _ in outcome.failures] == [prop]
    assert emu.count() == 0


def test_a_lost_duplicate_refusal_never_makes_another_stacks_label_ours(emu, host) -> None:
    # Another stack owns app=payments. Were our POST refused as a duplicate and that answer
    # lost, finding the label afterwards would wrongly look like our own applied POST.
    href = emu.add_label("app", "payments")
    emu.drop_response_after_apply("POST", "/labels", even_errors=True)
    state = host.create(PROVIDER, {"key": "app", "value": "payments"})
    assert state.id == href and state.plain_outputs["created"] is False
    host.delete(state)
    assert href in emu.labels, "destroy must not delete a label this stack did not create"


def test_check_refuses_a_value_longer_than_the_pce_takes(emu, host) -> None:
    outcome = host.check(PROVIDER, {"key": "env", "value": "v" * 256})
    assert list(outcome.failures) == [("value", "value: at most 255 characters (got 256)")]
    assert emu.count() == 0
