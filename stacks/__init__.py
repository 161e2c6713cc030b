"""Stack specs: the schema of `stacks/<stack>.yaml`, its loader, and one YAML file per stack.

`load("dev")` returns a validated `PlatformSpec` or raises `SpecError` listing every
problem with its file, line, YAML path and what is allowed. No Pulumi resources here.
"""

from __future__ import annotations

from components.tenancy.models import PlatformPolicy, ProjectSpec, TenantSpec
from stacks.errors import SpecError, SpecProblem
from stacks.loader import available_stacks, load, load_file
from stacks.section_rules import section_problems
from stacks.spec import (
    ClusterSpec,
    IllumioSpec,
    KubelinkSpec,
    KyvernoSpec,
    PairingProfileSpec,
    PlatformSpec,
    VaultSpec,
)

__all__ = [
    "ClusterSpec",
    "IllumioSpec",
    "KubelinkSpec",
    "KyvernoSpec",
    "PairingProfileSpec",
    "PlatformPolicy",
    "PlatformSpec",
    "ProjectSpec",
    "SpecError",
    "SpecProblem",
    "TenantSpec",
    "VaultSpec",
    "available_stacks",
    "load",
    "load_file",
    "section_problems",
]
