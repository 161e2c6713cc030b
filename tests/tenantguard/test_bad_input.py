"""Hostile and mistaken specs: each fails `validate` and `render` fast, changing nothing.

Every case asserts the exit status, the `file:line` and the field in the message, no
traceback, the time and memory bound, and that a previous render and the project folder
are byte-identical afterwards.
"""

from __future__ import annotations

import base64
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tenantguard import cli
from tests.stacks.conftest import VALID_SPEC, edit, line_of

MAX_SECONDS = 5.0
MAX_PEAK_BYTES = 64 * 1024 * 1024
SPEC_FILE = "stacks/case.yaml"
_JWT = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJzeXN0ZW06c2EifQ.c2lnbmF0dXJlLWJ5dGVz"
_KEY = (
    "-----BEGIN EC PRIVATE KEY-----\n"
    "MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5\n"
    "-----END EC PRIVATE KEY-----\n"
)
_SA = "          - name: deployer\n            role: edit"
_TENANT = "  - name: alpha\n"
_KUBELINK = "    version: 5.3.0\n"
_CLUSTER = "  name: test-cluster\n"


@dataclass(frozen=True)
class Case:
    """A bad spec, the field its message must name, and the text on the line it must cite."""

    name: str
    text: str
    field: str
    line: int | str


def with_sa(extra: str) -> str:
    return edit(VALID_SPEC, _SA, _SA + "\n" + extra)


def with_kubelink_value(entry: str) -> str:
    return edit(VALID_SPEC, _KUBELINK, _KUBELINK + "    values:\n" + entry)


def with_cluster(extra: str) -> str:
    return edit(VALID_SPEC, _CLUSTER, _CLUSTER + extra)


def alias_bomb() -> str:
    lines = ['      l0: &l0 ["x","x","x","x","x","x","x","x","x"]']
    lines += [f"      l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 9)]
    return with_kubelink_value("\n".join(lines) + "\n")


def deep_block(levels: int) -> str:
    body = "".join("  " * (i + 3) + f"k{i}:\n" for i in range(levels))
    return with_kubelink_value(body + "  " * (levels + 3) + "x\n")


KUBECONFIG = (
    "            description: |\n"
    "              apiVersion: v1\n"
    "              users:\n"
    "              - name: ci\n"
    "                user:\n"
    "                  token: 9f8e7d6c5b4a39281706f5e4d3c2b1a0\n"
)
SA_DESCRIPTION = "tenants[0].projects[0].serviceAccounts[0].description"
LONG = "v" * 300

TENANT_LABELS_LINE = line_of(VALID_SPEC, "name: alpha") + 1
"""Where a `labels:` added under the first tenant's name lands."""

CASES = [
    # ------------------------------------------------------------ structure and size
    Case("alias-bomb", alias_bomb(), "cluster.kubelink.values.l5[", "l5: &l5"),
    Case(
        "alias-bomb-bare",
        "a: &a [1,1,1,1,1,1,1,1,1,1]\n"
        + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 10) + "]\n"
            for i in range(8)
        ),
        "f[",
        "f: &f",
    ),
    Case("deep-block-nesting", deep_block(40), "cluster.kubelink.values.k0.k1", "k29:"),
    Case(
        "deep-flow-nesting",
        with_kubelink_value("      a: " + "[" * 5000 + "]" * 5000 + "\n"),
        "cluster.kubelink.values.a[0]",
        "a: [[[",
    ),
    Case(
        "huge-file",
        with_cluster("  description: '" + "x" * (3 * 1024 * 1024) + "'\n"),
        "the file is larger than",
        1,
    ),
    # ---------------------------------------------------------- credentials in values
    Case("kubeconfig-token-in-description", with_sa(KUBECONFIG), SA_DESCRIPTION, "token: 9f8e"),
    Case(
        "jwt-in-description",
        with_sa(f"            description: 'ci token {_JWT}'\n"),
        SA_DESCRIPTION,
        "ci token",
    ),
    Case(
        "aws-key-id-in-cluster-description",
        with_cluster("  description: uses AKIAIOSFODNN7EXAMPLE\n"),
        "cluster.description",
        "AKIAIOSFODNN7EXAMPLE",
    ),
    Case(
        "aws-secret-in-helm-values",
        with_kubelink_value(
            "      env: 'aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'\n"
        ),
        "cluster.kubelink.values.env",
        "aws_secret",
    ),
    Case(
        "private-key-in-ca-bundle",
        edit(
            VALID_SPEC,
            _KUBELINK,
            _KUBELINK
            + "    caBundle: |\n"
            + "".join(f"      {line}\n" for line in _KEY.splitlines()),
        ),
        "cluster.kubelink.caBundle",
        "BEGIN EC PRIVATE KEY",
    ),
    Case(
        "base64-private-key-in-helm-value",
        with_kubelink_value(f"      clientKey: {base64.b64encode(_KEY.encode()).decode()}\n"),
        "cluster.kubelink.values.clientKey",
        "clientKey:",
    ),
    Case(
        "authorization-basic-in-helm-value",
        with_kubelink_value("      header: 'Authorization: Basic dXNlcjpwYXNz'\n"),
        "cluster.kubelink.values.header",
        "Authorization",
    ),
    Case(
        "bearer-in-tenant-label",
        edit(
            VALID_SPEC,
            _TENANT,
            _TENANT + "    labels:\n      bu: Bearer 0123456789abcdefghij0123456789\n",
        ),
        "tenants[0].labels.bu",
        "bu: Bearer",
    ),
    Case(
        "vault-token-in-description",
        with_cluster("  description: hvs.CAESIJlU2fN0dZ0o4xN1aB2cD3eF4gH5iJ6k\n"),
        "cluster.description",
        "hvs.",
    ),
    Case(
        "legacy-vault-token-in-helm-value",
        with_kubelink_value("      vault: s.Xy12Ab34Cd56Ef78Gh90Ij12\n"),
        "cluster.kubelink.values.vault",
        "s.Xy12",
    ),
    Case(
        "github-token-in-description",
        with_sa("            description: ghp_" + "a1" * 18 + "\n"),
        SA_DESCRIPTION,
        "ghp_",
    ),
    Case(
        "google-key-in-description",
        with_sa("            description: AIzaSyA1234567890abcdefghijklmnopqrstuv\n"),
        SA_DESCRIPTION,
        "AIzaSy",
    ),
    Case(
        "azure-key-in-helm-value",
        with_kubelink_value("      conn: 'AccountKey=" + "Qk" * 30 + "=='\n"),
        "cluster.kubelink.values.conn",
        "AccountKey",
    ),
    Case(
        "client-key-data-in-description",
        with_sa("            description: 'client-key-data: a1b2c3d4e5f6a7b8c9d0e1f2'\n"),
        SA_DESCRIPTION,
        "client-key-data",
    ),
    Case(
        "secret-key-name",
        with_cluster("  apiSecret: hunter2hunter2\n"),
        "cluster.apiSecret",
        "apiSecret",
    ),
    Case(
        "password-in-helm-values",
        with_kubelink_value("      password: hunter2hunter2\n"),
        "cluster.kubelink.values.password",
        "password:",
    ),
    Case(
        "credentials-in-api-url",
        edit(VALID_SPEC, "https://k8s-api", "https://admin:pw@k8s-api"),
        "cluster.apiServer",
        "apiServer",
    ),
    # ------------------------------------------------------------------- PCE limits
    Case(
        "long-tenant-label-value",
        edit(VALID_SPEC, _TENANT, _TENANT + f"    labels:\n      bu: {LONG}\n"),
        "tenants[0].labels",
        TENANT_LABELS_LINE,
    ),
    Case(
        "long-cluster-label-value",
        edit(VALID_SPEC, "      loc: lab", f"      loc: {LONG}"),
        "cluster.illumio.labels",
        "    labels:",
    ),
    Case(
        "long-label-restriction",
        edit(
            VALID_SPEC,
            "      - name: web\n",
            f"      - name: web\n        labelRestrictions:\n          role: [{LONG}]\n",
        ),
        "tenants[0].projects[0].labelRestrictions",
        "labelRestrictions",
    ),
    Case(
        "long-label-key",
        edit(VALID_SPEC, "      loc: lab", "      " + "k" * 65 + ": lab"),
        "cluster.illumio.labels",
        "    labels:",
    ),
    Case(
        "control-character-label-value",
        edit(VALID_SPEC, "      loc: lab", '      loc: "a\\tb"'),
        "cluster.illumio.labels",
        "    labels:",
    ),
    Case(
        "long-cluster-name",
        edit(VALID_SPEC, _CLUSTER, "  name: " + "c" * 256 + "\n"),
        "cluster.name",
        "  name: ccc",
    ),
    Case(
        "long-cluster-description",
        with_cluster("  description: " + "d" * 5000 + "\n"),
        "cluster.description",
        "description:",
    ),
    Case(
        "long-sa-description",
        with_sa("            description: " + "d" * 5000 + "\n"),
        SA_DESCRIPTION,
        "description:",
    ),
    Case(
        "long-pairing-profile-name",
        edit(
            VALID_SPEC,
            "      loc: lab\n",
            "      loc: lab\n    pairingProfile:\n      name: " + "p" * 256 + "\n",
        ),
        "cluster.illumio.pairingProfile.name",
        "name: ppp",
    ),
    Case(
        "long-tenant-name",
        edit(VALID_SPEC, _TENANT, "  - name: " + "t" * 64 + "\n"),
        "tenants[0].name",
        "name: ttt",
    ),
    Case(
        "long-vault-prefix",
        edit(
            VALID_SPEC, "pathPrefix: tenantguard/test", "pathPrefix: " + "/".join(["segment"] * 30)
        ),
        "vault.pathPrefix",
        "pathPrefix",
    ),
    # ------------------------------------------------------------- ordinary mistakes
    Case(
        "quota-over-ceiling",
        edit(VALID_SPEC, 'cpu: "2"', 'cpu: "12"'),
        "tenants[1].projects[0].quota.requests.cpu",
        'cpu: "12"',
    ),
    Case("typo-in-key", edit(VALID_SPEC, "tenants:\n", "tenant:\n"), "tenant", "tenant:"),
    Case(
        "duplicate-key",
        edit(
            VALID_SPEC,
            "  failureAction: Audit\n",
            "  failureAction: Audit\n  failureAction: Enforce\n",
        ),
        "kyverno.failureAction",
        "failureAction: Enforce",
    ),
    Case(
        "non-text-label-key",
        edit(VALID_SPEC, "      loc: lab", "      on: lab"),
        "cluster.illumio.labels.on",
        "on: lab",
    ),
    Case(
        "wrong-type",
        edit(
            VALID_SPEC,
            "            memory: 2Gi\n",
            "            memory: 2Gi\n          pods: many\n",
        ),
        "tenants[1].projects[0].quota.pods",
        "pods: many",
    ),
    Case(
        "bad-cidr",
        edit(VALID_SPEC, "10.0.0.0/8", "10.0.0.0/33"),
        "platformPolicy.egressBaseline[0]",
        "10.0.0.0/33",
    ),
    Case(
        "registry-outside-allowlist",
        edit(VALID_SPEC, _TENANT, _TENANT + "    imageAllowlist: [evil.example]\n"),
        "tenants[0].imageAllowlist[0]",
        "evil.example",
    ),
    Case(
        "unpinned-kubelink",
        edit(VALID_SPEC, "version: 5.3.0", "version: ^5"),
        "cluster.kubelink.version",
        "version: ^5",
    ),
    Case(
        "http-api-server",
        edit(VALID_SPEC, "https://k8s-api", "http://k8s-api"),
        "cluster.apiServer",
        "apiServer",
    ),
    Case(
        "unknown-policy",
        edit(
            VALID_SPEC,
            "            role: edit\n",
            "            role: edit\n        policies:\n          - name: no-such-policy\n",
        ),
        "tenants[0].projects[0].policies[0]",
        "no-such-policy",
    ),
    Case(
        "reserved-namespace",
        edit(
            VALID_SPEC, "      - name: web\n", "      - name: web\n        namespace: kube-system\n"
        ),
        "tenants[0].projects[0].namespace",
        "kube-system",
    ),
    Case(
        "bad-role",
        edit(VALID_SPEC, "role: edit", "role: owner"),
        "tenants[0].projects[0].serviceAccounts[0].role",
        "role: owner",
    ),
    Case(
        "missing-vault",
        edit(VALID_SPEC, "vault:\n  pathPrefix: tenantguard/test\n", ""),
        "vault",
        1,
    ),
    Case(
        "tab-indentation",
        edit(VALID_SPEC, "  failureAction: Audit", "\tfailureAction: Audit"),
        "a tab: YAML indents with spaces only",
        "failureAction",
    ),
]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Pulumi project with a good `stacks/case.yaml` and a render of it in `render/`."""
    root = tmp_path_factory.mktemp("project")
    (root / "Pulumi.yaml").write_text("name: tenantguard\nruntime: python\n", encoding="utf-8")
    (root / "stacks").mkdir()
    (root / SPEC_FILE).write_text(VALID_SPEC, encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        assert cli.main(["render", SPEC_FILE, "--out", "render", "--project-dir", "."]) == 0
    return root


def snapshot(directory: Path) -> dict[str, bytes]:
    return {
        path.relative_to(directory).as_posix(): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def bounded(run: Callable[[], int]) -> int:
    """Run a command; assert it took under MAX_SECONDS and MAX_PEAK_BYTES of Python memory."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        code = run()
    finally:
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert elapsed < MAX_SECONDS, f"took {elapsed:.2f} s"
    assert peak < MAX_PEAK_BYTES, f"peaked at {peak / 2**20:.1f} MiB"
    return code


def expected_line(case: Case) -> int:
    return case.line if isinstance(case.line, int) else line_of(case.text, case.line)


def test_the_suite_is_large_and_its_names_unique() -> None:
    assert len(CASES) >= 40
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_a_bad_spec_fails_cleanly_and_changes_nothing(
    case: Case, project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.chdir(project)
    spec = project / SPEC_FILE
    good = spec.read_bytes()
    spec.write_text(case.text, encoding="utf-8")
    try:
        before = {name: data for name, data in snapshot(project).items() if name != SPEC_FILE}
        capsys.readouterr()
        assert bounded(lambda: cli.main(["validate", SPEC_FILE])) == 1
        err = capsys.readouterr().err
        cited = f"{SPEC_FILE}:{expected_line(case)}: "
        assert any(line.startswith(cited) and case.field in line for line in err.splitlines()), err
        assert "Traceback" not in err
        argv = ["render", SPEC_FILE, "--out", "render", "--project-dir", "."]
        assert bounded(lambda: cli.main(argv)) == 1
        rendered = capsys.readouterr()
        assert "Traceback" not in rendered.err and cited in rendered.err, rendered.err
        after = {name: data for name, data in snapshot(project).items() if name != SPEC_FILE}
        assert after == before
        assert sorted(p.name for p in project.iterdir()) == [
            "Pulumi.yaml",
            "render",
            "stacks",
        ]
    finally:
        spec.write_bytes(good)
