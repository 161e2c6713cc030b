"""Fixtures of the policy-library tests: the shared Kyverno CRD schemas."""

from __future__ import annotations

import pytest

from tests.components.kyverno_schema import KyvernoSchemas, SchemaDirectoryMissing, schema_dir


@pytest.fixture(scope="session")
def kyverno_schemas() -> KyvernoSchemas:
    """The Kyverno CRD schemas; fails (never skips) when the directory is missing."""
    try:
        return KyvernoSchemas(schema_dir())
    except SchemaDirectoryMissing as missing:
        pytest.fail(str(missing), pytrace=False)
