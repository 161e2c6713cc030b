"""Async collection reads: `Prefer: respond-async` -> job -> datafile.

The job's result is a snapshot taken when the job is created (as the PCE does), so a
client that polls until `done` and reads the datafile gets every matching object.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .errors import not_found
from .replies import Reply


def now_iso() -> str:
    """The PCE's timestamp format: UTC with milliseconds and a Z."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class Job:
    """One async job and how many times it has been polled."""

    href: str
    job_type: str
    description: str
    requested_at: str
    datafile_href: str
    polls: int = 0
    terminated_at: str | None = None


class JobBoard:
    """Jobs and their datafiles for one org; callers hold the emulator's lock."""

    def __init__(self, org_href: str, *, retry_after: int = 0, running_polls: int = 1) -> None:
        self.org_href = org_href
        self.retry_after = retry_after
        self.running_polls = running_polls
        self.jobs: dict[str, Job] = {}
        self.datafiles: dict[str, list[dict[str, Any]]] = {}

    def submit(self, job_type: str, collection_href: str, items: list[dict[str, Any]]) -> Reply:
        """Start a job for a collection read; 202 with Location and Retry-After."""
        job_href = f"{self.org_href}/jobs/{uuid.uuid4()}"
        datafile_href = f"{self.org_href}/datafiles/{uuid.uuid4()}"
        self.jobs[job_href] = Job(
            href=job_href,
            job_type=job_type,
            description=f"/api/v2{collection_href}",
            requested_at=now_iso(),
            datafile_href=datafile_href,
        )
        self.datafiles[datafile_href] = [dict(item) for item in items]
        headers = {"Location": job_href, "Retry-After": str(self.retry_after)}
        return Reply(202, {"href": job_href}, headers)

    def poll(self, job_href: str) -> Reply:
        """The job's state: `running` for `running_polls` polls, then `done` with result."""
        job = self.jobs.get(job_href)
        if job is None:
            raise not_found(job_href)
        job.polls += 1
        done = job.polls > self.running_polls
        body: dict[str, Any] = {
            "href": job.href,
            "job_type": job.job_type,
            "description": job.description,
            "status": "done" if done else "running",
            "requested_at": job.requested_at,
            "requested_by": {"href": "/users/1"},
        }
        headers: dict[str, str] = {}
        if done:
            job.terminated_at = job.terminated_at or now_iso()
            body["terminated_at"] = job.terminated_at
            body["result"] = {"href": job.datafile_href}
        else:
            headers["Retry-After"] = str(self.retry_after)
        return Reply(200, body, headers)

    def datafile(self, datafile_href: str) -> Reply:
        """The full JSON array a finished job produced."""
        items = self.datafiles.get(datafile_href)
        if items is None:
            raise not_found(datafile_href)
        return Reply(200, items)
