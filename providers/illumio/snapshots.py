"""Collection snapshots: one read of a PCE collection serves every Read and create lookup of
one engine operation.

A refresh of N workload profiles used to cost N GETs, and every create a lookup GET before
its POST. Instead, the first Read (or create) that needs a collection (a cluster's workload
profiles, the org's labels, pairing profiles, draft rule sets with their rules, draft IP
lists) reads the whole collection once (`get_collection`: one GET up to 500 objects, the
async job flow above), and every later Read or lookup of that collection in the same
operation is answered from that snapshot.

How long a snapshot is trusted:

- **One engine operation at most.** Snapshots live in the provider process's memory, and
  the engine starts one provider process per operation: the real engine launches
  `pulumi-resource-pulumi-python` (`python -m pulumi.dynamic`) for each `pulumi
  up/preview/refresh/destroy`, and the engine stand-in one host per operation. Nothing is
  written to disk, so no run ever sees another run's snapshot.
- **Only inside an engine operation.** Snapshots are used only once the provider was
  configured (`IllumioProvider.configure` calls `begin_operation`; the host calls it the
  first time it uses each provider class). Configured again with the same config, the
  operation goes on; with other config, every snapshot is dropped and a new epoch starts.
  Without Configure (the client used as a library, providers called in-process) nothing is
  cached: every call reads the PCE.
- **Bounded in time too.** A snapshot older than `MAX_AGE_SECONDS` is read again, so even
  a long operation, or a host that someone keeps for several operations, never trusts an
  old read for long.
- **Our own writes are applied to it.** A create adds the object the POST returned, an
  update marks the object so its next Read GETs it, a delete removes it (a cluster's delete
  drops its profiles): a deleted object reads as gone, a new one is found by a later lookup.
- **Thread-safe.** The engine sends Reads in parallel and the provider host serves them on
  4 threads: one lock guards the registry, and one lock per collection makes the first
  caller read it while the others wait for that read instead of making their own.
- **Fallback.** When the collection read fails (after the client's retries), the snapshot
  is marked failed for the operation and callers fall back to one GET per object.

What a snapshot can never do is see another writer's change made after it was read; the
create paths therefore keep their guarantees through the PCE itself: a refused duplicate
(406) or a create whose outcome is unknown is always followed by a fresh lookup GET. A
rule set or IP list found by name is read again (one GET) before it is adopted, so its
rules are never planned against an old read (an adoption is rare; a create is not).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from providers.illumio.client import PceClient

log = logging.getLogger("tenantguard.pce")

MAX_AGE_SECONDS = 300.0
"""The longest a snapshot is trusted, even inside one operation."""


class Snapshot:
    """One collection as read at `read_at`, plus this operation's own writes since."""

    def __init__(self, records: Iterable[Any], read_at: float) -> None:
        self._lock = threading.Lock()
        self._records: dict[str, Any] = {r.href: r for r in records}
        self._dirty: set[str] = set()
        self.read_at = read_at

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def lookup(self, href: str) -> tuple[bool, Any]:
        """(known, record): known False means GET it (we changed it since the read);
        (True, None) means it is gone."""
        with self._lock:
            if href in self._dirty:
                return False, None
            return True, self._records.get(href)

    def find(self, match: Callable[[Any], bool]) -> list[Any]:
        """Every record that matches (for lookups by namespace or key and value)."""
        with self._lock:
            return [r for r in self._records.values() if match(r)]

    def put(self, record: Any) -> None:
        """An object this operation created (the POST's answer is its whole state)."""
        with self._lock:
            self._records[record.href] = record
            self._dirty.discard(record.href)

    def changed(self, href: str) -> None:
        """An object this operation updated: its next Read must GET it."""
        with self._lock:
            if href in self._records:
                self._dirty.add(href)

    def forget(self, href: str) -> None:
        """An object this operation deleted (or found gone)."""
        with self._lock:
            self._records.pop(href, None)
            self._dirty.discard(href)


class _Slot:
    """The registry entry of one collection: its lock, its snapshot, whether reading failed."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.snapshot: Snapshot | None = None
        self.failed = False


_lock = threading.Lock()
_epoch = 0
_active = False
_fingerprint: object = None
_slots: dict[tuple[Any, ...], _Slot] = {}
_clock: Callable[[], float] = time.monotonic


def begin_operation(fingerprint: object = None) -> None:
    """The provider was configured: use snapshots from now on. With the fingerprint of the
    running operation's config nothing changes; otherwise every snapshot is dropped."""
    global _epoch, _active, _fingerprint
    with _lock:
        if _active and fingerprint is not None and fingerprint == _fingerprint:
            return
        _epoch += 1
        _active = True
        _fingerprint = fingerprint
        _slots.clear()


def end_operation() -> None:
    """No operation: drop every snapshot and read the PCE for every call (tests, library)."""
    global _active
    with _lock:
        _active = False
        _slots.clear()


def _slot(key: tuple[Any, ...]) -> _Slot | None:
    with _lock:
        if not _active:
            return None
        slot = _slots.get(key)
        if slot is None:
            slot = _slots[key] = _Slot()
        return slot


def _existing(key: tuple[Any, ...]) -> Snapshot | None:
    with _lock:
        slot = _slots.get(key) if _active else None
    return None if slot is None else slot.snapshot


def _snapshot(key: tuple[Any, ...], what: str, read: Callable[[], list[Any]]) -> Snapshot | None:
    """The collection's snapshot, read now if there is none (or it is too old); None when
    snapshots are off or reading the collection failed in this operation."""
    slot = _slot(key)
    if slot is None:
        return None
    with slot.lock:
        if slot.failed:
            return None
        snapshot = slot.snapshot
        if snapshot is not None and _clock() - snapshot.read_at <= MAX_AGE_SECONDS:
            return snapshot
        from providers.illumio.errors import IllumioError

        started = _clock()
        try:
            records = read()
        except (IllumioError, ValueError) as error:
            slot.failed = True
            log.warning("reading %s at once failed (%s); reading them one by one", what, error)
            return None
        slot.snapshot = Snapshot(records, started)
        return slot.snapshot


def _where(client: PceClient) -> tuple[str, int]:
    return (client.settings.pce_url, client.settings.org_id)


def profiles(client: PceClient, cluster_href: str) -> Snapshot | None:
    """The cluster's container workload profiles."""
    return _snapshot(
        ("profiles", *_where(client), cluster_href),
        f"the workload profiles of {cluster_href}",
        lambda: client.list_workload_profiles(cluster_href),
    )


def labels(client: PceClient) -> Snapshot | None:
    """The org's labels."""
    return _snapshot(("labels", *_where(client)), "the labels", client.list_labels)


def pairing_profiles(client: PceClient) -> Snapshot | None:
    """The org's pairing profiles."""
    return _snapshot(
        ("pairing_profiles", *_where(client)), "the pairing profiles", client.list_pairing_profiles
    )


def rule_sets(client: PceClient) -> Snapshot | None:
    """The org's draft rule sets, their rules embedded."""
    return _snapshot(("rule_sets", *_where(client)), "the rule sets", client.list_rule_sets)


def ip_lists(client: PceClient) -> Snapshot | None:
    """The org's draft IP lists."""
    return _snapshot(("ip_lists", *_where(client)), "the IP lists", client.list_ip_lists)


def cluster_of(profile_href: str) -> str:
    """The container cluster href of a workload profile href."""
    return profile_href.split("/container_workload_profiles/", 1)[0]


# -- this operation's own writes ---------------------------------------------------------


def _kind_key(client: PceClient, kind: str, *rest: str) -> tuple[Any, ...]:
    return (kind, *_where(client), *rest)


def created(client: PceClient, kind: str, record: Any) -> None:
    """Add an object we created to its collection's snapshot, if there is one."""
    snapshot = _existing(_key_for(client, kind, record.href))
    if snapshot is not None:
        snapshot.put(record)


def changed(client: PceClient, kind: str, href: str) -> None:
    """Mark an object we updated, so its next Read GETs it."""
    snapshot = _existing(_key_for(client, kind, href))
    if snapshot is not None:
        snapshot.changed(href)


def deleted(client: PceClient, kind: str, href: str) -> None:
    """Remove an object we deleted (or found gone) from its snapshot."""
    snapshot = _existing(_key_for(client, kind, href))
    if snapshot is not None:
        snapshot.forget(href)


def reread(client: PceClient, kind: str, href: str, record: Any) -> None:
    """What a fallback GET found: the object as it is now, or None when it is gone."""
    if record is None:
        deleted(client, kind, href)
    else:
        created(client, kind, record)


def read_through(
    client: PceClient,
    kind: str,
    snapshot: Snapshot | None,
    href: str,
    get: Callable[[str], Any],
) -> Any:
    """The record of `href` from this operation's `snapshot` when it knows the object, else
    one `get` (None when the PCE answers 404); what the GET found is noted in the snapshot."""
    from providers.illumio.errors import PceNotFoundError

    known, record = snapshot.lookup(href) if snapshot is not None else (False, None)
    if known:
        return record
    try:
        record = get(href)
    except PceNotFoundError:
        record = None
    reread(client, kind, href, record)
    return record


def cluster_deleted(client: PceClient, cluster_href: str) -> None:
    """A deleted cluster takes its profiles with it."""
    with _lock:
        _slots.pop(_kind_key(client, "profiles", cluster_href), None)


def _key_for(client: PceClient, kind: str, href: str) -> tuple[Any, ...]:
    if kind == "profiles":
        return _kind_key(client, kind, cluster_of(href))
    return _kind_key(client, kind)
