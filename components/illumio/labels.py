"""The stack-wide Illumio label registry: exactly one `Label` resource per key=value.

Tenants share env/loc labels and may restrict to the same values; creating a
`Label` per use would register duplicate resources for one PCE object, and
destroying one tenant would then delete a label the others still use.
"""

from __future__ import annotations

import hashlib
import re

import pulumi

from providers.illumio import Label

_UNSAFE = re.compile(r"[^a-z0-9]+")


def label_resource_name(key: str, value: str) -> str:
    """`label-<key>-<value>`, lowercased with other characters folded to '-'.

    When folding changed anything, a short hash of the exact key=value is appended,
    so labels such as `Prod` and `prod` (distinct in the PCE) get distinct names.
    """
    safe_key = _UNSAFE.sub("-", key.lower()).strip("-")
    safe_value = _UNSAFE.sub("-", value.lower()).strip("-")
    name = f"label-{safe_key}-{safe_value}"
    if safe_key != key or safe_value != value:
        digest = hashlib.sha256(f"{key}={value}".encode()).hexdigest()[:8]
        name = f"{name}-{digest}"
    return name


class LabelRegistry:
    """Creates each Illumio label on first use and hands out its href afterwards.

    Share one registry across every Tenant of a stack. `opts` are the options every
    Label gets (typically `parent` = the stack-level component, and a provider):
    labels must not be parented under one tenant, or removing that tenant would
    move or delete labels that other tenants use.
    """

    def __init__(self, opts: pulumi.ResourceOptions | None = None) -> None:
        self._opts = opts or pulumi.ResourceOptions()
        self._labels: dict[tuple[str, str], Label] = {}

    def label(self, key: str, value: str) -> Label:
        """The Label resource for key=value, registering it on first use."""
        if not key or not value:
            raise ValueError(
                f"Illumio label {key!r}={value!r}: key and value must both be non-empty"
            )
        found = self._labels.get((key, value))
        if found is None:
            found = Label(label_resource_name(key, value), key=key, value=value, opts=self._opts)
            self._labels[(key, value)] = found
        return found

    def href(self, key: str, value: str) -> pulumi.Output[str]:
        """The href of the key=value label (creating the Label on first use)."""
        return self.label(key, value).href

    def keys(self) -> list[tuple[str, str]]:
        """The (key, value) pairs registered so far, in registration order."""
        return list(self._labels)
