"""The Pulumi program the real-engine tests run: `tests.illumio_program`, shaped by the
stack's `e2e:*` config so that each test can change one thing between runs.

It is a real project directory (Pulumi.yaml beside it), so the engine runs it through the
Python language host and the dynamic providers through `pulumi-resource-pulumi-python`.
The tests put the repository on PYTHONPATH.
"""

import pulumi

from tests.illumio_program import declare

config = pulumi.Config("e2e")
declare(
    mode=config.get("mode") or "visibility_only",
    app=config.get("app") or "shop",
    description=config.get("description") or "real engine e2e",
    with_legacy=config.get_bool("withLegacy") or False,
    shared_labels=config.get_int("sharedLabels") or 0,
)
