"""Deletions that run at the same time in one provider process share one policy version.

An up that drops projects deletes their rule sets and IP lists, and each must provision its
own deletion (`provisioning`): alone, that is one policy version and 3 requests (pending
GET, dependencies, provision) per object. The engine deletes independent resources in
parallel, and the dynamic-provider host serves them on 4 worker threads, so here they
group-commit:

- A deletion counts itself *in flight* before its DELETE, and *joins* the open batch of its
  client and owner after it.
- The first to join leads: it waits until no other deletion of that client and owner is in
  flight and `SETTLE_SECONDS` (0.2 s) have passed since the last join (all at most
  `GATHER_SECONDS`), and until no earlier batch is still provisioning; then it provisions
  the whole batch with `provision_own`, as one version. The others wait for it.
- A deletion that runs alone waits the 0.2 s and no more. The host's 4 worker threads bound
  a batch: N deletions at once take at least ceil(N/4) versions.
- If the joint provision is refused because one deletion needs a draft the stack did not
  write (`ForeignDraftError`), each deletion of the batch is provisioned alone, so only the
  one at fault fails, naming its hrefs, as before. Any other failure fails every member:
  each gets its own copy of the error.
- The lost-response guard is `provision_own`'s, so nothing is provisioned twice.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from providers.illumio.provisioning import ForeignDraftError, delete_draft, provision_own

if TYPE_CHECKING:
    from providers.illumio.client import PceClient

GATHER_SECONDS = 5.0
"""How long a batch's leader waits at most for deletions still in flight to join."""

SETTLE_SECONDS = 0.2
"""How long a batch stays open after its last join, for deletions the engine sent at the
same time but the host has not started yet (it unpickles each call's provider first)."""

ACTION = "pulumi deletes"


@dataclass(eq=False)
class _Batch:
    """Deletions provisioned together; `done` is set once their outcome is known."""

    hrefs: list[str] = field(default_factory=list)
    last_join: float = 0.0
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


@dataclass(eq=False)
class _Lane:
    """One client and owner's deletions: in flight, the batch open to join, and whether a
    batch is provisioning (batches of one lane provision one after another)."""

    in_flight: int = 0
    open: _Batch | None = None
    provisioning: bool = False


class DeletionBatches:
    """Group commit of deletion provisions, per PCE client and owner; thread-safe."""

    def __init__(
        self,
        gather_seconds: float = GATHER_SECONDS,
        settle_seconds: float = SETTLE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._gather = gather_seconds
        self._settle = settle_seconds
        self._clock = clock
        self._cond = threading.Condition()
        self._lanes: dict[tuple[int, str], _Lane] = {}

    def delete(self, client: PceClient, kind: str, href: str, owner: str) -> None:
        """DELETE the draft (`delete_draft`), then provision its deletion with whatever
        other deletions of this client and owner are running at the same time."""
        key = (id(client), owner)  # the client is alive while any member holds it
        with self._cond:
            lane = self._lanes.setdefault(key, _Lane())
            lane.in_flight += 1
        try:
            delete_draft(client, kind, href)
        except BaseException:
            with self._cond:
                lane.in_flight -= 1
                self._cond.notify_all()
            raise
        with self._cond:
            lane.in_flight -= 1
            batch = lane.open
            leads = batch is None
            if batch is None:
                batch = lane.open = _Batch()
            batch.hrefs.append(href)
            batch.last_join = self._clock()
            self._cond.notify_all()
        if leads:
            self._lead(lane, batch, client, owner)
        else:
            batch.done.wait()
        if batch.error is None:
            return
        if isinstance(batch.error, ForeignDraftError) and len(batch.hrefs) > 1:
            self._alone(lane, client, href, owner)
            return
        if leads:
            raise batch.error
        raise _own_copy(batch.error) from None  # the leader's traceback stays the leader's

    def _lead(self, lane: _Lane, batch: _Batch, client: PceClient, owner: str) -> None:
        """Gather the batch, provision it, and always release its members, whatever fails
        (even an interrupt while gathering), so none waits forever."""
        try:
            with self._turn(lane, batch):
                provision_own(client, batch.hrefs, owner, ACTION)
        except BaseException as error:  # every member reports it, not only the leader
            batch.error = error
            with self._cond:
                if lane.open is batch:
                    lane.open = None
        finally:
            batch.done.set()

    def _alone(self, lane: _Lane, client: PceClient, href: str, owner: str) -> None:
        """Provision one deletion by itself, after the lane's batch in progress."""
        with self._turn(lane):
            provision_own(client, [href], owner, ACTION)

    @contextmanager
    def _turn(self, lane: _Lane, batch: _Batch | None = None) -> Iterator[None]:
        """The lane's provisioning turn, after the batch before it; released on exit.

        With a `batch`, the turn also waits (at most `gather_seconds`) for the lane's
        deletions in flight and `settle_seconds` past the last join, then closes the batch
        to later deletions in the same step. An interrupt while waiting takes no turn.
        """
        deadline = (self._clock() + self._gather) if batch is not None else 0.0
        with self._cond:
            while True:
                if lane.provisioning:
                    self._cond.wait()
                    continue
                if batch is None:
                    break
                now = self._clock()
                settled = batch.last_join + self._settle
                if now >= deadline or (not lane.in_flight and now >= settled):
                    lane.open = None  # later deletions start the next batch
                    break
                self._cond.wait(max(0.0, (deadline if lane.in_flight else settled) - now))
            lane.provisioning = True
        try:
            yield
        finally:
            with self._cond:
                lane.provisioning = False
                self._cond.notify_all()


def _own_copy(error: BaseException) -> BaseException:
    """A copy of `error` for one member to raise (one instance raised in several threads
    would share, and overwrite, its traceback); the error itself if it cannot be copied."""
    try:
        return copy.copy(error)
    except Exception:  # an exception type whose arguments cannot be replayed
        return error


DELETIONS = DeletionBatches()
"""The provider process's deletions (`RuleSet.delete`, `IpList.delete`)."""


def delete_and_provision(client: PceClient, kind: str, href: str, owner: str) -> None:
    """DELETE one draft rule set or IP list and provision that deletion, sharing a policy
    version with the deletions running at the same time (`DeletionBatches`)."""
    DELETIONS.delete(client, kind, href, owner)
