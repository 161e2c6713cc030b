"""The README's code examples run as written."""

import re
from pathlib import Path

from tests.components.mocked import PEM
from tests.pulumi_mocks import run_mocked

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_the_component_reuse_example_builds_a_tenant_under_mocks():
    (example,) = [b for b in python_blocks() if "TenantArgs(" in b]
    recording = run_mocked(lambda: exec(example, {"ca_pem": PEM}))
    types = recording.types()
    assert "tenantguard:index:Kyverno" in types
    assert "tenantguard:index:Tenant" in types
    assert "tenantguard:index:Project" in types
    namespaces = [
        r.inputs["metadata"]["name"] for r in recording.of_type("kubernetes:core/v1:Namespace")
    ]
    assert "acme-web" in namespaces
