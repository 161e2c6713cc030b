"""The segmentation intent of every project, derived once from the tenants and the platform
policy: who may reach the project, on which ports, and what it may reach.

Both layers are built from this one model: `network_policies` turns it into the project's
Kubernetes NetworkPolicies and `illumio_rules` into its PCE rule set, so one spec change
updates both and they never disagree. Pure data, no Pulumi.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from components.segmentation.models import FlowPort
from components.tenancy.apps import selector_labels
from components.tenancy.models import PlatformPolicy, ProjectSpec, TenantSpec, project_namespace

SCOPE_KEYS: tuple[str, ...] = ("app", "env", "loc")
"""The label keys a project's rule-set scope is made of (a scope holds at most 3 labels, and
several PCE versions refuse `role` in scopes); the project's identity in the PCE."""
ANY_ADDRESS: tuple[str, ...] = ("0.0.0.0/0", "::/0")


@dataclass(frozen=True, order=True)
class Port:
    """One port or port range (`to_port`) of one protocol; `port=None`: every port."""

    protocol: str
    port: int | None = None
    to_port: int | None = None

    @classmethod
    def of(cls, spec: FlowPort) -> Port:
        return cls(spec.protocol, spec.port, spec.to_port)

    def label(self) -> str:
        """`TCP 8080`, `TCP 8000-8100`, `UDP any`: how tables and messages show it."""
        if self.port is None:
            return f"{self.protocol} any"
        if self.to_port is not None and self.to_port != self.port:
            return f"{self.protocol} {self.port}-{self.to_port}"
        return f"{self.protocol} {self.port}"


DNS_PORTS = (Port("UDP", 53), Port("TCP", 53))


@dataclass(frozen=True)
class ProjectRef:
    """A project as the other layers name it: its namespace and its PCE scope labels."""

    tenant: str
    project: str
    namespace: str
    scope: tuple[tuple[str, str], ...]

    @property
    def key(self) -> str:
        return f"{self.tenant}/{self.project}"


@dataclass(frozen=True)
class PeerFlow:
    """Connections from or to another project, on `ports`."""

    peer: ProjectRef
    ports: tuple[Port, ...]


@dataclass(frozen=True)
class NamespaceFlow:
    """Connections from a platform namespace's pods to this project, on `ports`.

    `pods` narrows the project side to an app's pods (None: the whole project);
    `illumio_labels` are the namespace workloads' PCE labels (empty: no PCE rule possible).
    """

    name: str
    namespace: str
    ports: tuple[Port, ...]
    illumio_labels: tuple[tuple[str, str], ...]
    pods: tuple[tuple[str, str], ...] | None = None


@dataclass(frozen=True)
class ProjectIntent:
    """Everything one project may send and receive besides its own namespace."""

    project: ProjectRef
    identity: tuple[tuple[str, str], ...]
    """Every Illumio label its workload profile assigns (tenant, platform and scope labels)."""
    enforced: bool
    """Whether the PCE drops what no rule allows (`full` enforcement)."""
    allow_dns: bool
    egress_cidrs: tuple[str, ...]
    ingress_from_projects: tuple[PeerFlow, ...] = ()
    egress_to_projects: tuple[PeerFlow, ...] = ()
    ingress_from_namespaces: tuple[NamespaceFlow, ...] = ()


def identity_labels(
    tenant: TenantSpec, project: ProjectSpec, platform_labels: Mapping[str, str]
) -> dict[str, str]:
    """The Illumio labels a project's workload profile assigns: the tenant's, the platform's,
    and `app: <tenant app>-<project>`, overridden by `segmentation.labels`.

    Stable across runs (names only); unique per project once validated.
    """
    tenant_labels = tenant.illumio_labels()
    labels = {**tenant_labels, **platform_labels}
    labels["app"] = f"{tenant_labels['app']}-{project.name}"
    labels.update(project.segmentation.labels)
    return labels


def scope_labels(identity: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The identity's labels that make the project's PCE scope, in SCOPE_KEYS order."""
    return tuple((key, identity[key]) for key in SCOPE_KEYS if key in identity)


def project_ref(
    tenant: TenantSpec, project: ProjectSpec, platform_labels: Mapping[str, str]
) -> ProjectRef:
    return ProjectRef(
        tenant.name,
        project.name,
        project_namespace(tenant, project),
        scope_labels(identity_labels(tenant, project, platform_labels)),
    )


def _ports(specs: Sequence[FlowPort]) -> tuple[Port, ...]:
    return tuple(sorted({Port.of(spec) for spec in specs}))


def platform_intents(
    tenants: Sequence[TenantSpec],
    platform: PlatformPolicy,
    platform_labels: Mapping[str, str] | None = None,
) -> dict[str, ProjectIntent]:
    """Every project's intent, keyed `<tenant>/<project>`, in spec order.

    An `allowFrom` naming a project that is not in `tenants` is skipped here; the
    segmentation rules report it (`components.segmentation.rules`).
    """
    labels = dict(platform_labels or {})
    refs: dict[str, ProjectRef] = {}
    for tenant in tenants:
        for project in tenant.projects:
            ref = project_ref(tenant, project, labels)
            refs.setdefault(ref.key, ref)
    ingress: dict[str, list[PeerFlow]] = {key: [] for key in refs}
    egress: dict[str, list[PeerFlow]] = {key: [] for key in refs}
    for tenant in tenants:
        for project in tenant.projects:
            me = refs[f"{tenant.name}/{project.name}"]
            for allow in project.segmentation.allow_from:
                peer = refs.get(f"{allow.tenant or tenant.name}/{allow.project}")
                if peer is None or peer == me:
                    continue
                ports = _ports(allow.ports)
                ingress[me.key].append(PeerFlow(peer, ports))
                egress[peer.key].append(PeerFlow(me, ports))
    intents: dict[str, ProjectIntent] = {}
    for tenant in tenants:
        for project in tenant.projects:
            me = refs[f"{tenant.name}/{project.name}"]
            if me.key in intents:
                continue
            segmentation = project.segmentation
            cidrs: tuple[str, ...] = ()
            if segmentation.allow_egress_baseline:
                chosen = segmentation.egress_cidrs
                cidrs = tuple(platform.egress_baseline if chosen is None else chosen)
            intents[me.key] = ProjectIntent(
                project=me,
                identity=tuple(sorted(identity_labels(tenant, project, labels).items())),
                enforced=project.enforcement_mode == "full",
                allow_dns=segmentation.allow_dns,
                egress_cidrs=cidrs,
                ingress_from_projects=tuple(ingress[me.key]),
                egress_to_projects=tuple(egress[me.key]),
                ingress_from_namespaces=_namespace_flows(project, platform),
            )
    return intents


def _namespace_flows(project: ProjectSpec, platform: PlatformPolicy) -> tuple[NamespaceFlow, ...]:
    flows = [
        NamespaceFlow(
            name=f"namespace-{allow.namespace}",
            namespace=allow.namespace,
            ports=_ports(allow.ports),
            illumio_labels=tuple(sorted(allow.illumio_labels.items())),
        )
        for allow in project.segmentation.allow_from_namespaces
    ]
    ingress_labels = tuple(sorted(platform.ingress_illumio_labels.items()))
    flows += [
        NamespaceFlow(
            name=f"ingress-controller-{app.name}",
            namespace=platform.ingress_namespace,
            ports=(Port("TCP", app.port),),
            illumio_labels=ingress_labels,
            pods=tuple(sorted(selector_labels(app).items())),
        )
        for app in project.apps
        if app.host is not None
    ]
    return tuple(flows)


def project_intent(
    tenant: TenantSpec,
    project: ProjectSpec,
    platform: PlatformPolicy,
    platform_labels: Mapping[str, str] | None = None,
) -> ProjectIntent:
    """`project`'s intent when only its tenant is known (a Tenant or Project used on its
    own): flows to and from the tenant's other projects are kept, other tenants' are not."""
    siblings = [project if p.name == project.name else p for p in tenant.projects]
    if project.name not in {p.name for p in tenant.projects}:
        siblings.append(project)
    scoped = tenant.model_copy(update={"projects": siblings})
    return platform_intents([scoped], platform, platform_labels)[f"{tenant.name}/{project.name}"]
