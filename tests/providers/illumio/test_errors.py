"""The error hierarchy and what an error tells the operator."""

from __future__ import annotations

import pickle

import pytest

from providers.illumio.errors import (
    ClusterOperationError,
    IllumioError,
    IllumioManagerError,
    LabelOperationError,
    PceAuthError,
    PceConflictError,
    PceConnectionError,
    PceJobError,
    PceNotFoundError,
    PceOutcomeUnknownError,
    PceRateLimitError,
    PceServerError,
    PceSettingsError,
    PceValidationError,
)

REQUEST_ERRORS = [
    ClusterOperationError,
    LabelOperationError,
    PceAuthError,
    PceNotFoundError,
    PceConflictError,
    PceValidationError,
    PceRateLimitError,
    PceServerError,
    PceOutcomeUnknownError,
    PceConnectionError,
    PceJobError,
]


def test_hierarchy_follows_the_seed_and_the_contract():
    assert issubclass(IllumioError, IllumioManagerError)
    assert issubclass(IllumioManagerError, Exception)
    for cls in REQUEST_ERRORS:
        assert issubclass(cls, IllumioError), cls
    assert issubclass(PceSettingsError, IllumioManagerError)
    assert not issubclass(PceSettingsError, IllumioError)
    # Catching one PCE outcome never catches another.
    assert not issubclass(PceConflictError, PceValidationError)
    assert not issubclass(PceOutcomeUnknownError, PceServerError)


def test_attributes_and_message_carry_what_an_operator_needs():
    error = PceConflictError(
        "A label with key 'env' and value 'prod' already exists",
        status=406,
        tokens=["label_duplicate"],
        request_id="9f1c",
        method="POST",
        href="/orgs/1/labels",
    )
    assert (error.status, error.tokens, error.request_id) == (406, ["label_duplicate"], "9f1c")
    assert (error.method, error.href) == ("POST", "/orgs/1/labels")
    text = str(error)
    for part in ("POST /orgs/1/labels", "HTTP 406", "label_duplicate", "already exists",
                 "Request-ID: 9f1c", "look the existing object up"):  # fmt: skip
        assert part in text, part
    assert "PceConflictError(status=406" in repr(error)


def test_outcome_unknown_says_to_look_up_before_creating_again():
    error = PceOutcomeUnknownError("no response", method="POST", href="/orgs/1/container_clusters")
    assert "look the object up before creating it again" in str(error)
    assert error.method == "POST" and error.href == "/orgs/1/container_clusters"


def test_an_explicit_hint_replaces_the_default():
    error = PceNotFoundError("gone", status=404, hint="check the href")
    assert str(error).endswith("check the href")


def test_defaults_are_empty_not_none():
    error = IllumioError("boom")
    assert error.tokens == [] and error.status is None
    assert str(error) == "PCE request failed: boom"


@pytest.mark.parametrize("cls", REQUEST_ERRORS)
def test_errors_survive_pickling_with_their_fields(cls: type[IllumioError]):
    error = cls("msg", status=503, tokens=["t"], request_id="r", method="GET", href="/orgs/1/x")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is cls
    assert (copy.status, copy.tokens, copy.request_id, copy.href) == (503, ["t"], "r", "/orgs/1/x")
    assert str(copy) == str(error)
