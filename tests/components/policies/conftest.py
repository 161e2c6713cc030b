"""Fixtures of the policy-library tests: the shared Kyverno CRD schemas."""

from __future__ import annotations

import pytest

from tests.components.policies.crd_schemas import (
    SHARED_DIR_ENV,
    KyvernoSchemas,
    kyverno_schema_dir,
)


@pytest.fixture(scope="session")
def kyverno_schemas() -> KyvernoSchemas:
    """The Kyverno CRD schemas; fails (never skips) when the directory is missing."""
    directory = kyverno_schema_dir()
    if not directory.is_dir() or not any(directory.glob("*.json")):
        pytest.fail(
            f"Kyverno CRD schemas not found in {directory}: clone the repository next to "
            f"shared/ (so <clone>/../shared/schemas/kyverno exists) or set {SHARED_DIR_ENV} "
            "to the shared directory",
            pytrace=False,
        )
    return KyvernoSchemas(directory)
