"""Apps in a stack spec: the loader reports each app refusal with file, line and field path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from stacks import load_file
from tests.stacks.conftest import VALID_SPEC, edit, line_of

APP = """\
        apps:
          - name: site
            image: registry.internal.example/alpha/site:2.0
            host: site.test.internal.example
            replicas: 2
"""


def with_app(text: str = APP, spec: str = VALID_SPEC) -> str:
    return edit(
        spec,
        "          - name: deployer\n            role: edit\n",
        "          - name: deployer\n            role: edit\n" + text,
    )


def test_an_app_loads_with_its_defaults(write_spec: Callable[..., Path]) -> None:
    spec = load_file(write_spec(with_app()))
    (app,) = spec.tenants[0].projects[0].apps
    assert (app.name, app.port, app.replicas, app.host) == (
        "site",
        8080,
        2,
        "site.test.internal.example",
    )
    assert spec.platform_policy.ingress_class == "nginx"
    assert spec.platform_policy.ingress_namespace == "ingress-nginx"


def test_an_image_outside_the_allowlist_is_refused_at_its_line(spec_problems) -> None:
    text = with_app(APP.replace("registry.internal.example/alpha", "ghcr.io/alpha"))
    (problem,) = spec_problems(text)
    assert problem.path == "tenants[0].projects[0].apps[0].image"
    assert problem.line == line_of(text, "image: ghcr.io/alpha")
    assert "allowed: images under registry.internal.example" in problem.message
    assert str(problem).startswith(f"stacks/test.yaml:{problem.line}: tenants[0].projects[0]")


def test_an_image_without_tag_or_digest_is_refused_at_its_line(spec_problems) -> None:
    text = with_app(APP.replace("site:2.0", "site"))
    (problem,) = spec_problems(text)
    assert problem.line == line_of(text, "image: ")
    assert "has no tag or digest" in problem.message


def test_a_host_used_by_another_tenant_is_refused_at_the_second_app(spec_problems) -> None:
    text = edit(
        with_app(), "      - name: api\n", "      - name: api\n" + APP.replace("site\n", "other\n")
    )
    (problem,) = spec_problems(text)
    assert problem.path == "tenants[1].projects[0].apps[0].host"
    hosts = [n for n, line in enumerate(text.splitlines(), 1) if "host: site.test" in line]
    assert problem.line == hosts[1]
    assert "already served by tenant 'alpha', project 'web', app 'site'" in problem.message


def test_replicas_beyond_the_quota_are_refused_at_the_replicas_line(spec_problems) -> None:
    text = with_app(APP.replace("replicas: 2", "replicas: 11"))
    (problem,) = spec_problems(text)
    assert problem.path == "tenants[0].projects[0].apps[0].replicas"
    assert problem.line == line_of(text, "replicas: 11")
    assert "above its quota requests.cpu 1" in problem.message


def test_a_secret_looking_env_var_is_refused(spec_problems) -> None:
    text = with_app(APP + "            env:\n              DB_PASSWORD: hunter2-but-longer\n")
    (problem,) = spec_problems(text)
    assert problem.path == "tenants[0].projects[0].apps[0].env.DB_PASSWORD"
    assert problem.line == line_of(text, "DB_PASSWORD")
    assert "secret" in problem.message


def test_an_unknown_app_key_lists_the_app_keys(spec_problems) -> None:
    text = with_app(APP + "            replica: 3\n")
    (problem,) = spec_problems(text)
    assert problem.path == "tenants[0].projects[0].apps[0].replica"
    assert "(did you mean 'replicas'?)" in problem.message
    assert "name, image, host, port, replicas" in problem.message
