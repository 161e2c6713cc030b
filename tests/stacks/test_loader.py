"""The loader's answers to bad specs: each problem with file, line, path and what is allowed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from stacks import PlatformSpec, SpecError, SpecProblem, load, load_file
from tests.stacks.conftest import VALID_SPEC, edit, line_of

FILE = "stacks/test.yaml"


@pytest.fixture
def failing(write_spec: Callable[..., Path]) -> Callable[[str], SpecError]:
    """Load a spec text that must fail and return the SpecError."""

    def run(text: str) -> SpecError:
        path = write_spec(text)
        with pytest.raises(SpecError) as info:
            load_file(path)
        return info.value

    return run


def only(error: SpecError) -> SpecProblem:
    assert len(error.problems) == 1, str(error)
    return error.problems[0]


def test_the_valid_spec_loads(write_spec: Callable[..., Path], stacks_dir: Path) -> None:
    write_spec(VALID_SPEC)
    spec = load("test", directory=stacks_dir)
    assert isinstance(spec, PlatformSpec)
    assert [t.name for t in spec.tenants] == ["alpha", "beta"]
    assert spec.cluster.illumio.pairing_profile.name == "test-cluster-pairing"


# ------------------------------------------------------------------ schema: keys


def test_unknown_top_level_key_suggests_the_close_match(failing) -> None:
    text = edit(VALID_SPEC, "kyverno:\n", "kyvernoo:\n")
    problem = only(failing(text))
    assert problem == SpecProblem(
        FILE,
        "kyvernoo",
        line_of(text, "kyvernoo:"),
        "unknown key 'kyvernoo' (did you mean 'kyverno'?); "
        "allowed keys here: cluster, kyverno, platformPolicy, vault, tenants",
    )
    assert str(problem) == (
        f"{FILE}:{problem.line}: kyvernoo: unknown key 'kyvernoo' (did you mean 'kyverno'?); "
        "allowed keys here: cluster, kyverno, platformPolicy, vault, tenants"
    )


def test_unknown_nested_key_names_its_path_line_and_the_model_keys(failing) -> None:
    text = edit(
        VALID_SPEC, "            memory: 2Gi\n", "            memory: 2Gi\n        quotaa: {}\n"
    )
    problem = only(failing(text))
    assert problem.path == "tenants[1].projects[0].quotaa"
    assert problem.line == line_of(text, "quotaa")
    assert problem.message.startswith("unknown key 'quotaa' (did you mean 'quota'?); ")
    assert "allowed keys here: name, namespace, quota, containerDefaults, psaLevel" in (
        problem.message
    )


def test_unknown_key_inside_quota_lists_the_quota_keys(failing) -> None:
    text = edit(
        VALID_SPEC,
        '          requests:\n            cpu: "1"',
        '          request:\n            cpu: "1"',
    )
    problem = only(failing(text))
    assert problem.path == "tenants[0].projects[0].quota.request"
    assert problem.message == (
        "unknown key 'request' (did you mean 'requests'?); allowed keys here: "
        "requests, limits, pods, services, persistentVolumeClaims"
    )


def test_snake_case_keys_are_not_accepted_in_yaml(failing) -> None:
    text = edit(VALID_SPEC, "  allowClusterAdmin: false", "  allow_cluster_admin: false")
    problem = only(failing(text))
    assert problem.path == "platformPolicy.allow_cluster_admin"
    assert "(did you mean 'allowClusterAdmin'?)" in problem.message


def test_missing_required_key_gets_the_line_of_its_parent(failing) -> None:
    text = edit(VALID_SPEC, "  apiServer: https://k8s-api.test.internal.example:6443\n", "")
    problem = only(failing(text))
    assert problem.path == "cluster.apiServer"
    assert problem.line == line_of(text, "cluster:")
    assert problem.message.startswith("required key 'apiServer' is missing; allowed: ")
    assert "https URL" in problem.message


def test_missing_top_level_section_is_reported_at_the_top(failing) -> None:
    text = edit(VALID_SPEC, "vault:\n  pathPrefix: tenantguard/test\n", "")
    problem = only(failing(text))
    assert (problem.path, problem.line) == ("vault", 1)
    assert problem.message == (
        "required key 'vault' is missing; allowed: a mapping with keys mount, pathPrefix, "
        "kubernetesMount"
    )


def test_missing_name_in_a_list_item_gets_the_item_line(failing) -> None:
    text = edit(VALID_SPEC, "      - name: api\n", "      - namespace: beta-api\n")
    problem = only(failing(text))
    assert problem.path == "tenants[1].projects[0].name"
    assert problem.line == line_of(text, "- namespace: beta-api")
    assert "required key 'name' is missing; allowed: a DNS-1123 label" in problem.message


# ------------------------------------------------------------------ schema: values


def test_wrong_type_says_what_was_given_and_what_is_allowed(failing) -> None:
    text = edit(
        VALID_SPEC, "            memory: 2Gi\n", "            memory: 2Gi\n          pods: many\n"
    )
    problem = only(failing(text))
    assert problem.path == "tenants[1].projects[0].quota.pods"
    assert problem.line == line_of(text, "pods: many")
    assert problem.message == (
        "wrong type, got the text 'many'; allowed: a whole number (at least 0)"
    )


def test_a_number_where_text_is_expected_says_to_quote_it(failing) -> None:
    text = edit(VALID_SPEC, "    version: 5.3.0", "    version: 5.3")
    problem = only(failing(text))
    assert problem.path == "cluster.kubelink.version"
    assert "got the number 5.3" in problem.message
    assert "quote it" in problem.message
    assert "allowed: an exact chart version such as 5.3.0" in problem.message


def test_a_list_where_a_mapping_is_expected(failing) -> None:
    text = edit(VALID_SPEC, "vault:\n  pathPrefix: tenantguard/test\n", "vault:\n  - tenantguard\n")
    problem = only(failing(text))
    assert problem.path == "vault"
    assert problem.message == (
        "wrong type, got a list; allowed: a mapping with keys mount, pathPrefix, kubernetesMount"
    )


def test_bad_literal_lists_the_allowed_values_and_suggests(failing) -> None:
    text = edit(VALID_SPEC, "  failureAction: Audit", "  failureAction: audit")
    problem = only(failing(text))
    assert problem == SpecProblem(
        FILE,
        "kyverno.failureAction",
        line_of(text, "failureAction"),
        "the text 'audit' is not allowed (did you mean 'Audit'?); allowed: one of Audit, Enforce",
    )


def test_bad_literal_in_a_tenancy_section(failing) -> None:
    text = edit(VALID_SPEC, "      - name: api\n", "      - name: api\n        psaLevel: strict\n")
    problem = only(failing(text))
    assert problem.path == "tenants[1].projects[0].psaLevel"
    assert problem.message.endswith("allowed: one of privileged, baseline, restricted")


def test_bad_quantity_names_the_quota_field(failing) -> None:
    text = edit(VALID_SPEC, '            cpu: "1"', "            cpu: 1 core")
    problem = only(failing(text))
    assert problem.path == "tenants[0].projects[0].quota.requests.cpu"
    assert problem.line == line_of(text, "cpu: 1 core")
    assert problem.message == "'1 core' is not a Kubernetes quantity such as 500m, 2, 512Mi or 4Gi"


def test_bad_dns_label_names_the_rule(failing) -> None:
    text = edit(VALID_SPEC, "  - name: alpha", "  - name: Alpha_Team")
    problem = only(failing(text))
    assert problem.path == "tenants[0].name"
    assert "'Alpha_Team' is not a DNS-1123 label: at most 63 lowercase letters" in problem.message


def test_custom_validator_message_gets_the_allowed_form(failing) -> None:
    text = edit(
        VALID_SPEC,
        "  apiServer: https://k8s-api.test.internal.example:6443",
        "  apiServer: http://k8s-api.test.internal.example:6443",
    )
    problem = only(failing(text))
    assert problem.path == "cluster.apiServer"
    assert problem.message == (
        "'http://k8s-api.test.internal.example:6443' is not an https URL with a host; "
        "allowed: the Kubernetes API URL used in kubeconfigs: an https URL with a host and "
        "optional port, such as https://k8s-api.example:6443"
    )


def test_api_server_credentials_are_refused_and_not_echoed(failing) -> None:
    text = edit(
        VALID_SPEC,
        "  apiServer: https://k8s-api.",
        "  apiServer: https://admin:s3cr3t-pass@k8s-api.",
    )
    error = failing(text)
    problem = only(error)
    assert problem.path == "cluster.apiServer"
    assert problem.line == line_of(text, "apiServer:")
    assert problem.message.startswith("must not carry credentials (user:password@)")
    assert "admin" not in str(error) and "s3cr3t-pass" not in str(error)


def test_vault_path_with_traversal_is_refused(failing) -> None:
    text = edit(VALID_SPEC, "  pathPrefix: tenantguard/test", "  pathPrefix: tenantguard/../root")
    problem = only(failing(text))
    assert problem.path == "vault.pathPrefix"
    assert "'..'" in problem.message and "allowed: path segments" in problem.message


# ------------------------------------------------------------------ cross checks


def test_quota_above_the_ceiling(failing) -> None:
    text = edit(VALID_SPEC, '            cpu: "2"', '            cpu: "6"')
    problem = only(failing(text))
    assert problem == SpecProblem(
        FILE,
        "tenants[1].projects[0].quota.requests.cpu",
        line_of(text, 'cpu: "6"'),
        "tenant 'beta', project 'api': requests.cpu 6 is above the platform ceiling 4; "
        "allowed: at most 4",
    )
    assert f"{FILE}:{problem.line}: tenants[1].projects[0].quota.requests.cpu: " in str(
        failing(text)
    )


def test_registry_outside_the_platform_allowlist(failing) -> None:
    text = edit(
        VALID_SPEC,
        "  - name: beta\n",
        "  - name: beta\n    imageAllowlist:\n      - quay.io/acme\n",
    )
    problem = only(failing(text))
    assert problem.path == "tenants[1].imageAllowlist[0]"
    assert problem.line == line_of(text, "- quay.io/acme")
    assert problem.message == (
        "tenant 'beta': registry 'quay.io/acme' is outside the platform allowlist; "
        "allowed: registry.internal.example"
    )


def test_invalid_cidr(failing) -> None:
    text = edit(VALID_SPEC, "    - 10.0.0.0/8", "    - 10.0.0.1/8")
    problem = only(failing(text))
    assert problem.path == "platformPolicy.egressBaseline[0]"
    assert problem.line == line_of(text, "- 10.0.0.1/8")
    assert problem.message.startswith("'10.0.0.1/8' is not a valid CIDR network")
    assert problem.message.endswith("use a form such as 10.0.0.0/8")


def test_cidr_that_is_not_an_address(failing) -> None:
    text = edit(VALID_SPEC, "    - 10.0.0.0/8", "    - corp-network")
    problem = only(failing(text))
    assert problem.path == "platformPolicy.egressBaseline[0]"
    assert problem.message.startswith("'corp-network' is not a CIDR")


def test_unknown_role(failing) -> None:
    text = edit(VALID_SPEC, "            role: edit", "            role: editor")
    problem = only(failing(text))
    assert problem.path == "tenants[0].projects[0].serviceAccounts[0].role"
    assert problem.line == line_of(text, "role: editor")
    assert problem.message.endswith(
        "unknown role type 'editor'; allowed: view, edit, admin, cluster-admin, custom"
    )


def test_custom_role_without_rules(failing) -> None:
    text = edit(VALID_SPEC, "            role: edit", "            role: custom")
    problem = only(failing(text))
    assert problem.path == "tenants[0].projects[0].serviceAccounts[0].role"
    assert "role 'custom' needs either rules" in problem.message


def test_cluster_admin_not_allowed(failing) -> None:
    text = edit(VALID_SPEC, "            role: edit", "            role: cluster-admin")
    problem = only(failing(text))
    assert problem.path == "tenants[0].projects[0].serviceAccounts[0].role"
    assert "platformPolicy.allowClusterAdmin is false" in problem.message
    assert "use admin, edit, view or custom" in problem.message


def test_duplicate_namespace(failing) -> None:
    text = edit(
        VALID_SPEC, "      - name: api\n", "      - name: api\n        namespace: alpha-web\n"
    )
    problem = only(failing(text))
    assert problem.path == "tenants[1].projects[0].namespace"
    assert problem.line == line_of(text, "namespace: alpha-web")
    assert "namespace 'alpha-web' is already used by tenant 'alpha', project 'web'" in (
        problem.message
    )


def test_kyverno_namespace_is_reserved_for_kyverno(failing) -> None:
    text = edit(VALID_SPEC, "  failureAction: Audit", "  failureAction: Audit\n  namespace: guard")
    text = edit(text, "      - name: api\n", "      - name: api\n        namespace: guard\n")
    problem = only(failing(text))
    assert problem.path == "tenants[1].projects[0].namespace"
    assert "namespace 'guard' is reserved for the platform" in problem.message


def test_kubelink_enabled_without_version(failing) -> None:
    text = edit(VALID_SPEC, "    version: 5.3.0\n", "")
    problem = only(failing(text))
    assert problem.path == "cluster.kubelink.version"
    assert problem.line == line_of(text, "kubelink:")
    assert problem.message.startswith("required when kubelink is enabled")
    assert "allowed: an exact chart version such as 5.3.0" in problem.message


def test_kubelink_disabled_needs_no_version(write_spec: Callable[..., Path]) -> None:
    text = edit(VALID_SPEC, "    enabled: true\n    version: 5.3.0\n", "    enabled: false\n")
    spec = load_file(write_spec(text))
    assert spec.cluster.kubelink.enabled is False
    assert spec.cluster.kubelink.version is None


def test_ca_bundle_and_ignore_cert_exclude_each_other(failing) -> None:
    pem = (Path(__file__).parents[2] / "stacks" / "dev.yaml").read_text()
    bundle = pem[pem.index("-----BEGIN CERTIFICATE-----") : pem.index("-----END CERTIFICATE-----")]
    body = "\n".join("      " + line.strip() for line in bundle.splitlines())
    text = edit(
        VALID_SPEC,
        "    version: 5.3.0\n",
        f"    version: 5.3.0\n    ignoreCert: true\n    caBundle: |\n{body}\n"
        "      -----END CERTIFICATE-----\n",
    )
    problem = only(failing(text))
    assert problem.path == "cluster.kubelink.caBundle"
    assert problem.line == line_of(text, "caBundle:")
    assert "caBundle and ignoreCert: true exclude each other; allowed: either caBundle" in (
        problem.message
    )


def test_kubelink_values_may_not_override_what_tenantguard_sets(failing) -> None:
    text = edit(
        VALID_SPEC,
        "    version: 5.3.0\n",
        "    version: 5.3.0\n    values:\n      networkType: flat\n",
    )
    problem = only(failing(text))
    assert problem.path == "cluster.kubelink.values.networkType"
    assert "set by tenantguard from cluster.kubelink.networkType" in problem.message


def test_tenant_label_colliding_with_a_platform_label(failing) -> None:
    text = edit(VALID_SPEC, "  - name: alpha\n", "  - name: alpha\n    labels:\n      env: qa\n")
    problem = only(failing(text))
    assert problem.path == "tenants[0].labels.env"
    assert problem.line == line_of(text, "env: qa")
    assert "already assigned to every profile by cluster.illumio.labels" in problem.message
    assert "allowed: keys other than env, loc" in problem.message


def test_platform_label_app_is_refused(failing) -> None:
    text = edit(VALID_SPEC, "      loc: lab\n", "      loc: lab\n      app: shared\n")
    problem = only(failing(text))
    assert problem.path == "cluster.illumio.labels.app"
    assert "allowed: platform-wide keys such as env and loc" in problem.message


def test_project_label_restriction_on_an_assigned_key(failing) -> None:
    text = edit(
        VALID_SPEC,
        "      - name: api\n",
        "      - name: api\n        labelRestrictions:\n          loc: [lab]\n",
    )
    problem = only(failing(text))
    assert problem.path == "tenants[1].projects[0].labelRestrictions.loc"
    assert "a key is either assigned or restricted" in problem.message


def test_webhook_exclusion_of_a_tenant_namespace(failing) -> None:
    text = edit(
        VALID_SPEC,
        "  failureAction: Audit\n",
        "  failureAction: Audit\n  webhookExcludedNamespaces:\n    - monitoring\n    - beta-api\n",
    )
    problem = only(failing(text))
    assert problem.path == "kyverno.webhookExcludedNamespaces[1]"
    assert problem.line == line_of(text, "- beta-api")
    assert "belongs to tenant 'beta', project 'api'" in problem.message


def test_idle_project_is_refused(failing) -> None:
    text = edit(
        VALID_SPEC, "      - name: api\n", "      - name: api\n        enforcementMode: idle\n"
    )
    problem = only(failing(text))
    assert problem.path == "tenants[1].projects[0].enforcementMode"
    assert problem.message.endswith("allowed: visibility_only, full")


def test_tenant_label_repeating_a_platform_label(failing) -> None:
    text = edit(VALID_SPEC, "  - name: beta\n", "  - name: beta\n    labels:\n      loc: lab\n")
    problem = only(failing(text))
    assert problem.path == "tenants[1].labels.loc"
    assert problem.line == line_of(text, "- name: beta") + 2
    assert "loc=lab repeats the platform label" in problem.message


def test_default_request_above_default_limit(failing) -> None:
    text = edit(
        VALID_SPEC,
        '            cpu: "1"\n',
        '            cpu: "1"\n        containerDefaults:\n'
        '          defaultRequest: {cpu: "2"}\n          defaultLimit: {cpu: "1"}\n',
    )
    problem = only(failing(text))
    assert problem.path == "tenants[0].projects[0].containerDefaults.defaultRequest.cpu"
    assert problem.line == line_of(text, "defaultRequest")
    assert "default request 2 is above the default limit 1" in problem.message


def test_service_accounts_need_the_cluster_ca_for_their_kubeconfigs(failing) -> None:
    text = "\n".join(line for line in VALID_SPEC.splitlines() if "caData" not in line) + "\n"
    problem = only(failing(text))
    assert problem.path == "cluster.caData"
    assert "tenant 'alpha', project 'web'" in problem.message
    assert "allowed: the base64 of the cluster CA certificate" in problem.message


def test_cluster_ca_may_be_left_out_when_no_project_has_service_accounts(
    write_spec: Callable[..., Path],
) -> None:
    text = "\n".join(line for line in VALID_SPEC.splitlines() if "caData" not in line) + "\n"
    text = edit(
        text, "        serviceAccounts:\n          - name: deployer\n            role: edit\n", ""
    )
    assert load_file(write_spec(text)).cluster.ca_data is None


# ------------------------------------------------------------------ policies (the library)


def test_unknown_project_policy(failing) -> None:
    text = edit(
        VALID_SPEC,
        "            role: edit\n",
        "            role: edit\n        policies:\n          - name: no-such-policy\n",
    )
    problem = only(failing(text))
    assert problem.path == "tenants[0].projects[0].policies[0]"
    assert problem.line == line_of(text, "- name: no-such-policy")
    assert "'no-such-policy'" in problem.message
    assert "restrict-image-registries" in problem.message  # what is allowed


def test_a_misspelt_policy_gets_the_close_name(failing) -> None:
    text = edit(
        VALID_SPEC,
        "            role: edit\n",
        "            role: edit\n        policies:\n          - name: disallow-latest-tags\n",
    )
    problem = only(failing(text))
    assert "(did you mean 'disallow-latest-tag'?)" in problem.message


def test_bad_policy_parameter(failing) -> None:
    text = edit(
        VALID_SPEC,
        "            role: edit\n",
        "            role: edit\n        policies:\n          - name: restrict-image-registries\n"
        "            parameters:\n              registry: [registry.internal.example]\n",
    )
    problem = only(failing(text))
    assert problem.path == "tenants[0].projects[0].policies[0]"
    assert "'registry'" in problem.message
    assert "registries" in problem.message  # the parameter it takes


def test_bad_baseline_policy(failing) -> None:
    text = edit(
        VALID_SPEC,
        "  failureAction: Audit\n",
        "  failureAction: Audit\n  baselinePolicies:\n    - name: restrict-image-registry\n",
    )
    problem = only(failing(text))
    assert problem.path == "kyverno.baselinePolicies[0]"
    assert problem.line == line_of(text, "- name: restrict-image-registry")
    assert problem.message.startswith("baseline policy 'restrict-image-registry': ")


def test_baseline_policy_listed_twice(failing) -> None:
    text = edit(
        VALID_SPEC,
        "  failureAction: Audit\n",
        "  failureAction: Audit\n  baselinePolicies:\n    - name: disallow-host-path\n"
        "    - name: disallow-host-path\n",
    )
    problem = only(failing(text))
    assert problem.path == "kyverno.baselinePolicies[1].name"
    assert "baseline policy 'disallow-host-path' is listed twice" in problem.message


def test_baseline_registry_outside_the_allowlist(failing) -> None:
    text = edit(
        VALID_SPEC,
        "  failureAction: Audit\n",
        "  failureAction: Audit\n  baselinePolicies:\n    - name: restrict-image-registries\n"
        "      parameters:\n        registries: [registry.internal.example, quay.io]\n",
    )
    problem = only(failing(text))
    assert problem.path == "kyverno.baselinePolicies[0].parameters.registries[1]"
    assert problem.message.endswith(
        "registry 'quay.io' is outside the platform allowlist; allowed: registry.internal.example"
    )


# ------------------------------------------------------------------ YAML itself


def test_yaml_syntax_error_names_the_line(failing) -> None:
    text = edit(
        VALID_SPEC, "  pathPrefix: tenantguard/test", "  pathPrefix: tenantguard/test\n bad: ["
    )
    problem = only(failing(text))
    assert problem.file == FILE
    assert problem.line is not None and problem.line >= line_of(text, " bad: [")
    assert problem.message.startswith("YAML syntax error: ")
    assert str(problem).startswith(f"{FILE}:{problem.line}: YAML syntax error")


def test_tab_indentation_is_a_syntax_error(failing) -> None:
    text = edit(VALID_SPEC, "  failureAction: Audit", "\tfailureAction: Audit")
    problem = only(failing(text))
    assert problem.line == line_of(text, "failureAction")
    assert "YAML syntax error" in problem.message
    assert "a tab: YAML indents with spaces only" in problem.message


def test_duplicate_key_is_an_error(failing) -> None:
    text = edit(
        VALID_SPEC, "  failureAction: Audit\n", "  failureAction: Audit\n  failureAction: Enforce\n"
    )
    problem = only(failing(text))
    first = line_of(text, "failureAction: Audit")
    assert problem == SpecProblem(
        FILE,
        "kyverno.failureAction",
        first + 1,
        f"duplicate key 'failureAction' (first at line {first}); YAML would silently keep only "
        "the last one; allowed: each key once per mapping",
    )


def test_unquoted_yaml_boolean_key_is_an_error(failing) -> None:
    text = edit(VALID_SPEC, "      loc: lab\n", "      loc: lab\n      on: yes\n")
    problem = only(failing(text))
    assert problem.path == "cluster.illumio.labels.on"
    assert problem.line == line_of(text, "on: yes")
    assert "quote it" in problem.message


def test_empty_file(failing) -> None:
    problem = only(failing("# nothing here yet\n"))
    assert problem.file == FILE
    assert problem.message == (
        "the file is empty; allowed: a mapping with keys cluster, kyverno, platformPolicy, "
        "vault, tenants"
    )


def test_top_level_list(failing) -> None:
    problem = only(failing("- cluster\n- vault\n"))
    assert problem.line == 1
    assert problem.message.startswith("the top level is a list, not a mapping; allowed: ")


# ------------------------------------------------------------------ secrets


def test_secret_looking_key_says_to_use_pulumi_config(failing) -> None:
    text = edit(
        VALID_SPEC, "  name: test-cluster\n", "  name: test-cluster\n  apiSecret: 7f3a9c1e5b2d\n"
    )
    error = failing(text)
    problem = only(error)
    assert problem.path == "cluster.apiSecret"
    assert problem.line == line_of(text, "apiSecret")
    assert "looks like a secret" in problem.message
    assert "pulumi config set --secret" in problem.message
    assert "7f3a9c1e5b2d" not in str(error)


@pytest.mark.parametrize("key", ["token", "password", "clusterToken", "api_key"])
def test_secret_looking_keys_are_refused_inside_helm_values(failing, key: str) -> None:
    text = edit(
        VALID_SPEC,
        "  failureAction: Audit\n",
        f"  failureAction: Audit\n  values:\n    config:\n      {key}: hunter2-value\n",
    )
    error = failing(text)
    problem = only(error)
    assert problem.path == f"kyverno.values.config.{key}"
    assert "pulumi config set --secret" in problem.message
    assert "hunter2-value" not in str(error)


def test_references_to_secrets_are_not_secrets(write_spec: Callable[..., Path]) -> None:
    text = edit(
        VALID_SPEC,
        "  failureAction: Audit\n",
        "  failureAction: Audit\n  values:\n    imagePullSecrets:\n      - name: registry-pull\n"
        "    existingSecret: kyverno-tls\n    createSecret: true\n",
    )
    spec = load_file(write_spec(text))
    assert spec.kyverno.values["existingSecret"] == "kyverno-tls"


def test_private_key_in_any_value_is_refused_and_not_echoed(failing) -> None:
    key = (
        "-----BEGIN PRIVATE KEY-----\n"
        "      MIGHAgEAMBMGByqGSM49AgEGCCqGSM49\n"
        "      -----END PRIVATE KEY-----"
    )
    text = edit(
        VALID_SPEC,
        "  name: test-cluster\n",
        f"  name: test-cluster\n  description: |\n      {key}\n",
    )
    error = failing(text)
    problem = only(error)
    assert problem.path == "cluster.description"
    assert "private key" in problem.message
    assert "MIGHAgEAMBMG" not in str(error)


# ------------------------------------------------------------------ many at once


def test_several_problems_are_reported_together_in_file_order(failing) -> None:
    text = edit(VALID_SPEC, "  failureAction: Audit", "  failureAction: audit")
    text = edit(text, "  name: test-cluster\n", "  name: test-cluster\n  name: other\n")
    text = edit(
        text, '        quota:\n          requests:\n            cpu: "1"', "        quotaa: {}"
    )
    error = failing(text)
    assert [(p.path, p.line) for p in error.problems] == [
        ("cluster.name", line_of(text, "name: other")),
        ("kyverno.failureAction", line_of(text, "failureAction")),
        ("tenants[0].projects[0].quotaa", line_of(text, "quotaa")),
    ]
    rendered = str(error)
    assert rendered.startswith("3 problems in the stack spec; nothing was changed:\n")
    assert all(f"  {problem}" in rendered for problem in error.problems)
    assert rendered.endswith(
        "the rules across sections run too (quota ceilings, registries, "
        "namespaces, roles, labels, policies)."
    )


def test_several_cross_check_problems_are_reported_together(failing) -> None:
    text = edit(VALID_SPEC, '            cpu: "2"', '            cpu: "6"')
    text = edit(text, "            role: edit", "            role: editor")
    text = edit(text, "      - name: api\n", "      - name: api\n        namespace: alpha-web\n")
    error = failing(text)
    paths = [p.path for p in error.problems]
    assert error.note is None  # the schema passed: nothing is left unchecked
    assert paths == [
        "tenants[0].projects[0].serviceAccounts[0].role",
        "tenants[1].projects[0].namespace",
        "tenants[1].projects[0].quota.requests.cpu",
    ]


def test_problems_unpack_as_file_path_line_message(failing) -> None:
    error = failing(edit(VALID_SPEC, "  failureAction: Audit", "  failureAction: Warn"))
    file, path, line, message = error.problems[0]
    assert (file, path) == (FILE, "kyverno.failureAction")
    assert isinstance(line, int) and "allowed: one of Audit, Enforce" in message


# ------------------------------------------------------------------ stack names and files


@pytest.mark.parametrize(
    "name", ["../etc/passwd", "Dev", "", "dev/prod", "-dev", ".hidden", "dev\n"]
)
def test_bad_stack_name_is_refused_before_any_file_is_read(stacks_dir: Path, name: str) -> None:
    with pytest.raises(SpecError) as info:
        load(name, directory=stacks_dir)
    problem = only(info.value)
    assert problem.message.startswith(f"stack name {name!r} is not allowed; allowed: lowercase")


def test_missing_stack_file_lists_the_available_stacks(
    write_spec: Callable[..., Path], stacks_dir: Path
) -> None:
    write_spec(VALID_SPEC, name="dev")
    write_spec(VALID_SPEC, name="prod")
    with pytest.raises(SpecError) as info:
        load("staging", directory=stacks_dir)
    problem = only(info.value)
    assert problem.file == "stacks/staging.yaml"
    assert problem.message == (
        "there is no spec for stack 'staging'; allowed: a stack with a spec file: dev, prod"
    )


def test_missing_explicit_file(stacks_dir: Path) -> None:
    with pytest.raises(SpecError) as info:
        load_file(stacks_dir / "nowhere.yaml")
    assert only(info.value).message.startswith("no such file")


def test_default_directory_is_the_stacks_package() -> None:
    with pytest.raises(SpecError) as info:
        load("no-such-stack")
    message = only(info.value).message
    assert "allowed: a stack with a spec file: dev, prod" in message
