"""The segmentation rules validate checks across the stack, each problem at its spec path:
`allowFrom` naming a project that does not exist, egress CIDRs outside the platform's
baseline, two projects with one PCE identity, and `full` enforcement that would cut a
project off (no DNS, or a flow the PCE cannot name).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence

from components.formats import check_cidr
from components.segmentation.intent import project_ref
from components.tenancy.models import PlatformPolicy, TenantSpec
from components.tenancy.problems import Problem

FULL_WHY = (
    "in full enforcement the PCE drops every flow no active rule allows, so the project "
    "would be cut off"
)


def _within(cidr: str, baseline: Sequence[str]) -> bool:
    network = ipaddress.ip_network(cidr, strict=True)
    for entry in baseline:
        try:
            outer = ipaddress.ip_network(entry, strict=True)
        except ValueError:
            continue
        if network.version == outer.version and network.subnet_of(outer):  # type: ignore[arg-type]
            return True
    return False


def segmentation_problems(
    tenants: Sequence[TenantSpec],
    platform: PlatformPolicy,
    *,
    path: str = "tenants",
    platform_labels: Mapping[str, str] | None = None,
    illumio_profiles: bool = True,
) -> list[Problem]:
    """Every segmentation problem across `tenants`, in spec order."""
    labels = dict(platform_labels or {})
    problems: list[Problem] = []
    for d, cidr in enumerate(platform.dns_cidrs):
        reason = check_cidr(cidr)
        if reason:
            problems.append(Problem(f"platformPolicy.dnsCidrs[{d}]", reason))
    known = {tenant.name: {p.name for p in tenant.projects} for tenant in tenants}
    identities: dict[tuple[tuple[str, str], ...], str] = {}
    for i, tenant in enumerate(tenants):
        for j, project in enumerate(tenant.projects):
            p_path = f"{path}[{i}].projects[{j}]"
            s_path = f"{p_path}.segmentation"
            where = f"tenant {tenant.name!r}, project {project.name!r}"
            segmentation = project.segmentation
            for k, allow in enumerate(segmentation.allow_from):
                peer_tenant = allow.tenant or tenant.name
                a_path = f"{s_path}.allowFrom[{k}]"
                if peer_tenant not in known:
                    problems.append(
                        Problem(
                            f"{a_path}.tenant",
                            f"{where}: no tenant {peer_tenant!r} in the stack; allowed: one of "
                            f"{', '.join(sorted(known)) or 'none'}",
                        )
                    )
                elif allow.project not in known[peer_tenant]:
                    problems.append(
                        Problem(
                            f"{a_path}.project",
                            f"{where}: tenant {peer_tenant!r} has no project "
                            f"{allow.project!r}; allowed: one of "
                            f"{', '.join(sorted(known[peer_tenant])) or 'none'}",
                        )
                    )
                elif peer_tenant == tenant.name and allow.project == project.name:
                    problems.append(
                        Problem(
                            f"{a_path}.project",
                            f"{where}: a project always reaches itself; allowed: another project",
                        )
                    )
            for c, cidr in enumerate(segmentation.egress_cidrs or []):
                c_path = f"{s_path}.egressCidrs[{c}]"
                reason = check_cidr(cidr)
                if reason:
                    problems.append(Problem(c_path, f"{where}: {reason}"))
                elif not _within(cidr, platform.egress_baseline):
                    problems.append(
                        Problem(
                            c_path,
                            f"{where}: {cidr} is outside the platform's egressBaseline; "
                            "allowed: networks within "
                            f"{', '.join(platform.egress_baseline) or 'it (it is empty)'}",
                        )
                    )
            if not illumio_profiles:
                continue
            scope = project_ref(tenant, project, labels).scope
            if scope in identities:
                problems.append(
                    Problem(
                        f"{s_path}.labels",
                        f"{where}: its PCE identity {dict(scope)} is also {identities[scope]}'s, "
                        "so no rule could tell the two apart; allowed: a label set of its own "
                        "(set segmentation.labels.app)",
                    )
                )
            else:
                identities[scope] = where
            if project.enforcement_mode != "full":
                continue
            if not segmentation.allow_dns:
                problems.append(
                    Problem(
                        f"{p_path}.enforcementMode",
                        f"{where}: {FULL_WHY} from DNS (segmentation.allowDns is false); "
                        "allowed: allowDns: true, or enforcementMode: visibility_only",
                    )
                )
            for k, allow_ns in enumerate(segmentation.allow_from_namespaces):
                if not allow_ns.illumio_labels:
                    problems.append(
                        Problem(
                            f"{s_path}.allowFromNamespaces[{k}].illumioLabels",
                            f"{where}: {FULL_WHY} from namespace {allow_ns.namespace!r} "
                            "unless the PCE rule can name its workloads; allowed: the Illumio "
                            "labels of that namespace's workloads, such as {app: monitoring}",
                        )
                    )
            hosted = [a for a, app in enumerate(project.apps) if app.host is not None]
            if hosted and not platform.ingress_illumio_labels:
                problems.append(
                    Problem(
                        f"{p_path}.apps[{hosted[0]}].host",
                        f"{where}: {FULL_WHY} from the ingress controller unless the PCE rule "
                        "can name its workloads; allowed: set platformPolicy."
                        "ingressIllumioLabels (such as {app: ingress-nginx}), or "
                        "enforcementMode: visibility_only",
                    )
                )
    return problems
