"""LabelRegistry: one Label resource per key=value, stable and collision-free logical names."""

from __future__ import annotations

import pulumi
import pytest

from components.illumio.labels import LabelRegistry, label_resource_name
from tests.components.mocked import LABEL_TYPE, label_href, run


def test_label_names_are_readable_and_stable():
    assert label_resource_name("env", "prod") == "label-env-prod"
    assert label_resource_name("loc", "eu-west-1") == "label-loc-eu-west-1"


def test_names_that_needed_folding_get_a_hash_so_distinct_labels_never_collide():
    upper, lower = label_resource_name("env", "Prod"), label_resource_name("env", "prod")
    assert upper != lower
    assert upper.startswith("label-env-prod-")
    spaced = label_resource_name("loc", "us east")
    assert spaced.startswith("label-loc-us-east-") and " " not in spaced
    assert label_resource_name("loc", "us east") == spaced


def test_each_key_value_is_registered_once_and_shares_its_href():
    hrefs = {}

    def program():
        registry = LabelRegistry()
        first = registry.label("env", "prod")
        assert registry.label("env", "prod") is first
        registry.href("env", "prod")
        registry.href("loc", "eu")
        registry.href("app", "shop")
        assert registry.keys() == [("env", "prod"), ("loc", "eu"), ("app", "shop")]
        registry.href("env", "prod").apply(lambda h: hrefs.setdefault("env", h))

    recording = run(program)
    labels = recording.of_type(LABEL_TYPE)
    assert sorted(r.name for r in labels) == ["label-app-shop", "label-env-prod", "label-loc-eu"]
    assert {(r.inputs["key"], r.inputs["value"]) for r in labels} == {
        ("env", "prod"),
        ("loc", "eu"),
        ("app", "shop"),
    }
    assert hrefs["env"] == label_href("env", "prod")


def test_labels_take_the_options_the_registry_was_given():
    def program():
        holder = pulumi.ComponentResource("tenantguard:test:Holder", "holder")
        LabelRegistry(pulumi.ResourceOptions(parent=holder)).href("env", "prod")

    recording = run(program)
    holder = recording.named("holder")
    assert recording.named("label-env-prod").parent == holder.urn


@pytest.mark.parametrize(("key", "value"), [("", "prod"), ("env", "")])
def test_empty_key_or_value_is_refused_before_registration(key, value):
    with pytest.raises(ValueError, match="non-empty"):
        LabelRegistry().label(key, value)
