"""The tenantguard Pulumi program: the stack's connection config and spec in, the Platform and
its exports out.

`__main__.py` calls `main()`; the CLI's offline render runs this same function under mocks,
from a checkout or an installed wheel. Every problem a user can cause (a bad spec, missing
config) ends as a `pulumi.RunError`, which Pulumi prints without a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi
from pydantic import ValidationError

import stacks
from components.platform import OUTPUT_NAMES, Platform
from components.tenancy.validation import TenancyValidationError
from stacks.spec import PlatformSpec
from tenantguard.platform_args import platform_args

PLATFORM_NAME = "platform"
"""The Platform's resource name; part of every URN, so renaming it replaces everything."""


@dataclass(frozen=True)
class Setting:
    """One Pulumi config key the program reads: what it is and how to set it."""

    key: str
    meaning: str
    example: str
    secret: bool = False

    @property
    def command(self) -> str:
        """The `pulumi config set` line that sets it."""
        flag = " --secret" if self.secret else ""
        return f"pulumi config set{flag} {self.key} {self.example}"


SPEC = Setting("tenantguard:spec", "the stack spec to load (stacks/<name>.yaml)", "dev")
PCE_URL = Setting(
    "illumio:pceUrl",
    "the PCE's base URL, such as https://pce.example.com:8443",
    "https://pce.example.com:8443",
)
KUBECONFIG = Setting(
    "kubernetes:kubeconfig",
    "the cluster's kubeconfig (contents or a path)",
    '"$(cat ~/.kube/config)"',
    secret=True,
)
KUBE_CONTEXT = Setting("kubernetes:context", "the kubeconfig context to use", "<context>")
VAULT_ADDRESS = Setting(
    "vault:address", "Vault's URL, such as https://vault.example.com:8200", "<url>"
)
VAULT_TOKEN = Setting("vault:token", "a Vault token", "<token>", secret=True)
VAULT_SKIP_CHILD_TOKEN = Setting(
    "vault:skipChildToken", "use the token as is instead of a child token", "true"
)
EXISTING_CLUSTER_TOKEN = Setting(
    "tenantguard:existingClusterToken",
    "the token of a PCE container cluster that already exists under the spec's name",
    "<token>",
    secret=True,
)


class MissingConfigError(pulumi.RunError):
    """Required Pulumi config is not set; the message names each key and how to set it."""

    def __init__(self, stack: str, missing: list[tuple[list[Setting], str]]) -> None:
        lines = [f"Missing required configuration for stack {stack!r}:"]
        for choices, why in missing:
            keys = " or ".join(setting.key for setting in choices)
            lines.append(f"  {keys}: {why}")
            for setting in choices:
                lines.append(f"    {setting.command}")
        super().__init__("\n".join(lines))
        self.keys = [setting.key for choices, _ in missing for setting in choices]


def _namespace_key(setting: Setting) -> tuple[pulumi.Config, str]:
    namespace, key = setting.key.split(":", 1)
    return pulumi.Config(namespace), key


def _get(setting: Setting) -> str | None:
    config, key = _namespace_key(setting)
    value = config.get(key)
    return value or None


def _get_secret(setting: Setting) -> pulumi.Output[str] | None:
    config, key = _namespace_key(setting)
    return config.get_secret(key)


@dataclass(frozen=True)
class Connection:
    """What the stack's Pulumi config says: which spec, and how to reach PCE, cluster, Vault."""

    spec_name: str
    pce_url: str
    kubeconfig: pulumi.Output[str] | None
    kube_context: str | None
    vault_address: str
    vault_token: pulumi.Output[str] | None
    vault_skip_child_token: bool | None
    existing_cluster_token: pulumi.Output[str] | None


def read_connection() -> Connection:
    """The connection settings from Pulumi config; MissingConfigError lists all that are missing.

    A kubeconfig or a context is required so the platform never lands on whatever cluster
    the ambient kubeconfig happens to point at.
    """
    stack = pulumi.get_stack()
    pce_url = _get(PCE_URL)
    vault_address = _get(VAULT_ADDRESS)
    kubeconfig = _get_secret(KUBECONFIG)
    kube_context = _get(KUBE_CONTEXT)
    missing: list[tuple[list[Setting], str]] = []
    if pce_url is None:
        missing.append(([PCE_URL], PCE_URL.meaning))
    if kubeconfig is None and kube_context is None:
        missing.append(
            (
                [KUBECONFIG, KUBE_CONTEXT],
                "which cluster to deploy to (a kubeconfig, a context in the ambient one, or both)",
            )
        )
    if vault_address is None:
        missing.append(([VAULT_ADDRESS], VAULT_ADDRESS.meaning))
    if missing:
        raise MissingConfigError(stack, missing)
    assert pce_url is not None and vault_address is not None
    skip_config, skip_key = _namespace_key(VAULT_SKIP_CHILD_TOKEN)
    return Connection(
        spec_name=_get(SPEC) or stack,
        pce_url=pce_url,
        kubeconfig=kubeconfig,
        kube_context=kube_context,
        vault_address=vault_address,
        vault_token=_get_secret(VAULT_TOKEN),
        vault_skip_child_token=skip_config.get_bool(skip_key),
        existing_cluster_token=_get_secret(EXISTING_CLUSTER_TOKEN),
    )


def build(spec: PlatformSpec, connection: Connection) -> Platform:
    """The Platform for `spec`, reached through `connection`."""
    return Platform(
        PLATFORM_NAME,
        platform_args(
            spec,
            pce_url=connection.pce_url,
            kubeconfig=connection.kubeconfig,
            kube_context=connection.kube_context,
            vault_address=connection.vault_address,
            vault_token=connection.vault_token,
            vault_skip_child_token=connection.vault_skip_child_token,
            existing_cluster_token=connection.existing_cluster_token,
        ),
    )


def export_outputs(platform: Platform) -> None:
    """The Platform's outputs as stack outputs; the cluster token and kubeconfigs stay secret.

    Project maps are keyed `<tenant>/<project>`; kyverno_version is the chart's version.
    """
    for name in OUTPUT_NAMES:
        pulumi.export(name, getattr(platform, name))


def main(*, spec_directory: str | Path | None = None) -> Platform:
    """Run the program: read config, load the spec, build the Platform, export its outputs.

    `spec_directory` overrides where `<spec>.yaml` is looked up (default: the `stacks`
    package). A spec, validation or config problem raises `pulumi.RunError` with the
    readable text and registers nothing.
    """
    connection = read_connection()
    try:
        spec = stacks.load(connection.spec_name, directory=spec_directory)
        platform = build(spec, connection)
    except (stacks.SpecError, TenancyValidationError) as exc:
        raise pulumi.RunError(str(exc)) from None
    except ValidationError as exc:
        raise pulumi.RunError(f"invalid platform arguments: {exc}") from None
    export_outputs(platform)
    return platform
