"""Quantities compare exactly, whatever unit the user wrote them in."""

from decimal import Decimal

import pytest

from components.tenancy.quantity import parse_quantity


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("500m", Decimal("0.5")),
        ("2", Decimal(2)),
        ("1.5", Decimal("1.5")),
        ("512Mi", Decimal(512 * 2**20)),
        ("4Gi", Decimal(4 * 2**30)),
        ("1G", Decimal(10**9)),
        ("100k", Decimal(100_000)),
        (3, Decimal(3)),
    ],
)
def test_parses_kubernetes_quantities(text, expected):
    assert parse_quantity(text) == expected


def test_binary_and_decimal_suffixes_compare_correctly():
    assert parse_quantity("1Gi") > parse_quantity("1G")
    assert parse_quantity("1000m") == parse_quantity("1")


@pytest.mark.parametrize("bad", ["", "four", "4 Gi", "4GB", "-1", "1e3x", "Gi"])
def test_rejects_what_is_not_a_quantity_and_says_what_is(bad):
    with pytest.raises(ValueError, match="Kubernetes quantity such as 500m"):
        parse_quantity(bad)
