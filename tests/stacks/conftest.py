"""Fixtures for the stack spec tests: a small valid spec, written where the loader reads it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from stacks import SpecError, SpecProblem, load_file

CA_DATA = (
    "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJqakNDQVRPZ0F3SUJBZ0lVRzdpY3JERGg5NlVLdlUyNmZZ"
    "ODJuYVBET1lzd0NnWUlLb1pJemowRUF3SXcKSERFYU1CZ0dBMVVFQXd3UmEzVmlaWEp1WlhSbGN5MWpZUzFrWlhZ"
    "d0hoY05Nall4TVRJeU1UQTBOakUwV2hjTgpNell4TVRFNU1UQTBOakUwV2pBY01Sb3dHQVlEVlFRRERCRnJkV0ps"
    "Y201bGRHVnpMV05oTFdSbGRqQlpNQk1HCkJ5cUdTTTQ5QWdFR0NDcUdTTTQ5QXdFSEEwSUFCTW1jOFFDT2ZoMUR5"
    "Wlc1MytxRVNiQk5jeWhma0l3Uk1pQ20KSHZUaDgxTHM0SUNGRWJnSmIvSWw5RzRPY21wdFRKTk9tT2Y4UkFxUWRw"
    "K1M3VnFYK2ZhalV6QlJNQjBHQTFVZApEZ1FXQkJRWEZkcDMyeG83c2NkSlkzWEFXOUNuRjlPRnBUQWZCZ05WSFNN"
    "RUdEQVdnQlFYRmRwMzJ4bzdzY2RKClkzWEFXOUNuRjlPRnBUQVBCZ05WSFJNQkFmOEVCVEFEQVFIL01Bb0dDQ3FH"
    "U000OUJBTUNBMGtBTUVZQ0lRRFIKd2lNVGEvNFpEZ2tSUkRHUFErRlYxNitNU2xaY1VLdEFQOVc3SkMwUVVnSWhB"
    "SkhhRXpaMGh3RWNCNFpCV2xUYQp4a3lWU25SRVZ4V3pFbVdIM0JPbEYwZkoKLS0tLS1FTkQgQ0VSVElGSUNBVEUt"
    "LS0tLQo="
)
"""The dev example cluster's CA certificate, base64 PEM as in certificate-authority-data."""

VALID_SPEC = """\
cluster:
  name: test-cluster
  apiServer: https://k8s-api.test.internal.example:6443
  caData: {ca_data}
  illumio:
    labels:
      env: test
      loc: lab
  kubelink:
    enabled: true
    version: 5.3.0
kyverno:
  failureAction: Audit
platformPolicy:
  imageAllowlist:
    - registry.internal.example
  egressBaseline:
    - 10.0.0.0/8
  quotaMax:
    requests:
      cpu: "4"
      memory: 8Gi
  allowClusterAdmin: false
vault:
  pathPrefix: tenantguard/test
tenants:
  - name: alpha
    projects:
      - name: web
        quota:
          requests:
            cpu: "1"
        serviceAccounts:
          - name: deployer
            role: edit
  - name: beta
    projects:
      - name: api
        quota:
          requests:
            cpu: "2"
            memory: 2Gi
""".replace("{ca_data}", CA_DATA)
"""Loads cleanly; tests derive each bad spec from it with `edit`."""


def edit(text: str, old: str, new: str) -> str:
    """`text` with the single occurrence of `old` replaced (fails loudly if it is not unique)."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def line_of(text: str, needle: str) -> int:
    """The 1-based line number of the only line containing `needle`."""
    found = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(found) == 1, f"{needle!r} is on lines {found}"
    return found[0]


@pytest.fixture
def stacks_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty `stacks/` directory; the working directory is its parent, as for `pulumi up`."""
    directory = tmp_path / "stacks"
    directory.mkdir()
    monkeypatch.chdir(tmp_path)
    return directory


@pytest.fixture
def write_spec(stacks_dir: Path) -> Callable[..., Path]:
    """Write `stacks/<name>.yaml` (default `test`) and return its path."""

    def write(text: str, name: str = "test") -> Path:
        path = stacks_dir / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def spec_problems(write_spec: Callable[..., Path]) -> Callable[[str], list[SpecProblem]]:
    """Load a spec text that must fail and return its problems."""

    def run(text: str) -> list[SpecProblem]:
        with pytest.raises(SpecError) as info:
            load_file(write_spec(text))
        return info.value.problems

    return run
