"""Collection snapshots (`providers.illumio.snapshots`) and the throttle's 429 pause.

Through the real provider host: a refresh of many objects costs one collection read per
collection (the async job above 500), parallel Reads share that one read, a deleted object
reads as gone, a failed collection read falls back to one GET per object, and a new
operation (a new provider process) never sees the previous one's snapshot. In-process:
no snapshot without Configure, the age bound, and a 429 pausing every thread.
"""

from __future__ import annotations

import concurrent.futures
from typing import Any

import pytest

from providers.illumio import snapshots
from providers.illumio.label import LabelProvider
from providers.illumio.throttle import SlidingWindowLimiter
from providers.illumio.workload_profile import ContainerWorkloadProfileProvider
from tests.pce_emulator.request_log import request_counts
from tests.providers.illumio.dynamic_host import DynamicHost, ResourceState
from tests.providers.illumio.virtual_clock import FakeTime

PROFILE = ContainerWorkloadProfileProvider()
LABEL = LabelProvider()


@pytest.fixture
def cluster(pce) -> str:
    return pce.create_container_cluster("snap-cluster").href


def make_profiles(host: DynamicHost, cluster: str, count: int) -> list[ResourceState]:
    """`count` profiles made through the host, as a first up makes them."""
    return [
        host.create(
            PROFILE, {"container_cluster_href": cluster, "namespace": f"ns-{i:04d}"}, name=f"p{i}"
        )
        for i in range(count)
    ]


def read_all(host: DynamicHost, states: list[ResourceState]) -> list[Any]:
    """Read every state on 4 threads at once, as the engine's parallel refresh does."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(host.read, states))


def test_first_up_costs_one_profile_read_then_one_post_each(emu, host, cluster) -> None:
    emu.reset_counts()
    make_profiles(host, cluster, 12)
    assert request_counts(emu) == {"profile GET": 1, "profile POST": 12}


def test_parallel_refresh_of_many_profiles_is_one_read(emu, host, cluster) -> None:
    states = make_profiles(host, cluster, 30)
    host.next_operation()
    emu.reset_counts()
    refreshed = read_all(host, states)
    assert all(r is not None for r in refreshed)
    assert request_counts(emu) == {"profile GET": 1}, "one collection GET for 30 reads"
    assert [r.plain_outputs for r in refreshed] == [s.plain_outputs for s in states]


def test_above_500_the_snapshot_comes_through_an_async_job(emu, host, cluster) -> None:
    hrefs = emu.kubelink_report(cluster, [f"bulk-{i:04d}" for i in range(620)])
    states = make_profiles(host, cluster, 3)
    host.next_operation()
    emu.reset_counts()
    refreshed = read_all(host, states)
    assert all(r is not None for r in refreshed) and len(hrefs) == 620
    jobs = [r for r in emu.requests if "/jobs/" in r.path]
    assert jobs, "the 623 profiles were read through an async job"
    # The synchronous GET that reveals X-Total-Count, the job, its polls, the datafile.
    assert len(emu.requests) == 3 + len(jobs)


def test_an_object_deleted_out_of_band_reads_as_gone(emu, host, pce, cluster) -> None:
    states = make_profiles(host, cluster, 3)
    pce.delete_workload_profile(states[1].id)
    host.next_operation()
    emu.reset_counts()
    refreshed = read_all(host, states)
    assert refreshed[1] is None and refreshed[0] is not None and refreshed[2] is not None
    assert emu.count() == 1


def test_a_new_operation_never_sees_the_last_ones_snapshot(emu, host, pce, cluster) -> None:
    [state] = make_profiles(host, cluster, 1)
    host.next_operation()
    assert host.read(state).plain_outputs["enforcement_mode"] == "visibility_only"
    pce.update_workload_profile(state.id, {"enforcement_mode": "full"})
    host.next_operation()
    assert host.read(state).plain_outputs["enforcement_mode"] == "full"


def test_a_failed_collection_read_falls_back_to_one_get_each(emu, host, cluster) -> None:
    states = make_profiles(host, cluster, 4)
    host.next_operation()
    emu.reset_counts()
    emu.inject_failures(1, 500, "GET")  # a 500 is not retried: the collection read fails
    refreshed = [host.read(state) for state in states]
    assert all(r is not None for r in refreshed)
    succeeded = [r for r in emu.requests if r.status == 200]
    assert len(succeeded) == 4 and all("/container_workload_profiles/" in r.path for r in succeeded)


def test_labels_made_in_this_operation_are_found_without_a_request(emu, host) -> None:
    emu.reset_counts()
    first = host.create(LABEL, {"key": "app", "value": "shared"}, name="a")
    second = host.create(LABEL, {"key": "app", "value": "shared"}, name="b")
    assert request_counts(emu) == {"label GET": 1, "label POST": 1}
    assert second.id == first.id
    assert first.plain_outputs["created"] is True and second.plain_outputs["created"] is False


def test_no_snapshot_without_configure_and_none_older_than_the_bound(monkeypatch) -> None:
    reads: list[int] = []

    def read() -> list[Any]:
        reads.append(1)
        return []

    assert snapshots._snapshot(("t",), "test", read) is None, "not configured: no snapshot"
    now = [0.0]
    monkeypatch.setattr(snapshots, "_clock", lambda: now[0])
    snapshots.begin_operation("config-a")
    snapshots._snapshot(("t",), "test", read)
    snapshots._snapshot(("t",), "test", read)
    assert len(reads) == 1
    snapshots.begin_operation("config-a")  # the next provider class: same operation
    snapshots._snapshot(("t",), "test", read)
    assert len(reads) == 1
    now[0] = snapshots.MAX_AGE_SECONDS + 1
    snapshots._snapshot(("t",), "test", read)
    assert len(reads) == 2, "an old snapshot is read again"
    snapshots.begin_operation("config-b")  # other config: a new epoch
    snapshots._snapshot(("t",), "test", read)
    assert len(reads) == 3
    snapshots.end_operation()


def test_a_429_pauses_every_thread_sharing_the_limiter() -> None:
    clock = FakeTime()
    limiter = SlidingWindowLimiter(100, clock=clock.time, sleep=clock.sleep)
    limiter.acquire()
    limiter.pause(5.0)
    assert limiter.acquire() == 5.0
    assert clock.sleeps == [5.0]
    limiter.pause(-1.0)
    assert limiter.acquire() == 5.0, "a past pause holds nothing"


# -- first up: what changed since the snapshot is still caught by the PCE -------------------


def test_kubelink_profile_made_after_the_snapshot_is_adopted_not_duplicated(
    emu, host, cluster
) -> None:
    make_profiles(host, cluster, 1)  # the cluster's profiles are read now
    [kubelink] = emu.kubelink_report(cluster, ["late"])
    emu.reset_counts()
    state = host.create(PROFILE, {"container_cluster_href": cluster, "namespace": "late"})
    assert state.id == kubelink
    assert request_counts(emu) == {"profile POST": 1, "profile GET": 1, "profile PUT": 1}
    assert [p for p in emu.profiles.values() if p["namespace"] == "late"] == [
        emu.profiles[kubelink]
    ], "no duplicate: the 406 led to a fresh lookup and an adoption"


def test_a_profile_deleted_after_the_snapshot_is_created_again(emu, host, pce, cluster) -> None:
    [kubelink] = emu.kubelink_report(cluster, ["gone"])
    make_profiles(host, cluster, 1)  # the snapshot holds Kubelink's profile for "gone"
    pce.delete_workload_profile(kubelink)
    state = host.create(PROFILE, {"container_cluster_href": cluster, "namespace": "gone"})
    assert state.id != kubelink and state.id in emu.profiles


def test_a_label_another_stack_made_after_the_snapshot_is_used_not_owned(emu, host) -> None:
    host.create(LABEL, {"key": "app", "value": "first"}, name="first")  # labels read now
    theirs = emu.add_label("app", "theirs")
    emu.reset_counts()
    state = host.create(LABEL, {"key": "app", "value": "theirs"}, name="theirs")
    assert state.id == theirs and state.plain_outputs["created"] is False
    assert request_counts(emu) == {"label POST": 1, "label GET": 1}  # 406, then a fresh look


def test_a_lost_label_answer_is_found_by_a_fresh_lookup_and_owned(emu, host) -> None:
    host.create(LABEL, {"key": "app", "value": "first"}, name="first")
    emu.drop_response_after_apply("POST", "/labels")
    emu.reset_counts()
    state = host.create(LABEL, {"key": "app", "value": "lost"}, name="lost")
    assert state.plain_outputs["created"] is True
    assert [lb for lb in emu.labels.values() if lb["value"] == "lost"] == [emu.labels[state.id]]
    assert request_counts(emu) == {"label POST": 1, "label GET": 1}
