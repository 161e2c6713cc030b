"""Good and bad sample resources for every template, shipped as `<template>.yaml` files.

Each file holds `parameters` (what the samples are rendered with), and `good` and `bad`
lists of `{description, object}`: resources the template must allow and deny.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml


@dataclass(frozen=True)
class Sample:
    """One resource and why it is good or bad."""

    description: str
    object: dict[str, Any]


@dataclass(frozen=True)
class TemplateSamples:
    """The samples of one template and the parameters they assume."""

    parameters: dict[str, Any]
    good: tuple[Sample, ...]
    bad: tuple[Sample, ...]


def load_samples(template: str) -> TemplateSamples:
    """The samples shipped for `template`; FileNotFoundError if it has none."""
    text = resources.files(__name__).joinpath(f"{template}.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    return TemplateSamples(
        parameters=dict(data.get("parameters") or {}),
        good=tuple(Sample(s["description"], s["object"]) for s in data["good"]),
        bad=tuple(Sample(s["description"], s["object"]) for s in data["bad"]),
    )
