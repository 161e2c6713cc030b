"""The recording mock engine, under the name the tests import it by."""

from tenantguard.recording_mocks import (
    Recording,
    RecordingMocks,
    RecordingMonitor,
    Registered,
    run_mocked,
)

__all__ = ["Recording", "RecordingMocks", "RecordingMonitor", "Registered", "run_mocked"]
