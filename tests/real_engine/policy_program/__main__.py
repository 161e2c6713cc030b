"""The policy program the real-engine tests run: `tests.illumio_program.declare_policy`,
shaped by the stack's `e2e:*` config (`port`, `batch`, `extra`) so a test can change it."""

import pulumi

from tests.illumio_program import declare_policy

config = pulumi.Config("e2e")
declare_policy(
    port=config.get_int("port") or 443,
    batch=config.get_bool("batch") if config.get("batch") is not None else True,
    extra=config.get_int("extra") or 0,
)
