"""tenantguard.redact: Pulumi secret markers are redacted, known secrets scrubbed everywhere."""

from __future__ import annotations

import base64

from pulumi.runtime import rpc

from tenantguard.redact import (
    MIN_SCRUB_LENGTH,
    REDACTED,
    SECRET_SIG,
    SECRET_SIG_KEY,
    Scrubber,
    blank,
    is_secret,
    redact,
    scrub,
    secret_texts,
    unwrap,
)

TOKEN = "1_0dfe6a3c9b7e4f2a8d1c5b3e7f9a2d4c"


def marked(value: object) -> dict[str, object]:
    """A secret the way Pulumi's own serializer wraps it."""
    return rpc.wrap_rpc_secret(value)


def test_marker_constants_are_pulumis_own() -> None:
    assert marked("x") == {SECRET_SIG_KEY: SECRET_SIG, "value": "x"}
    assert is_secret(marked("x"))
    assert not is_secret({"value": "x"})
    assert unwrap(marked(marked("x"))) == "x"


def test_redact_replaces_a_secret_text_and_leaves_the_rest() -> None:
    value = {"name": "dev", "token": marked(TOKEN), "ports": [53, {"p": marked("pw-123456")}]}
    assert redact(value) == {"name": "dev", "token": REDACTED, "ports": [53, {"p": REDACTED}]}


def test_a_secret_mapping_keeps_its_keys_and_nulls_and_hides_every_value() -> None:
    values = marked({"cluster_token": TOKEN, "networkType": "overlay", "ca": None, "n": [1, True]})
    assert redact({"values": values}) == {
        "values": {
            "cluster_token": REDACTED,
            "networkType": REDACTED,
            "ca": None,
            "n": [REDACTED, REDACTED],
        }
    }
    assert blank("plain") == REDACTED


def test_secret_texts_takes_marked_texts_whole_with_their_base64_form() -> None:
    encoded = base64.b64encode(TOKEN.encode()).decode()
    assert secret_texts({"data": marked(encoded), "name": "payments-api"}) == {encoded, TOKEN}
    assert secret_texts({"token": TOKEN}) == set(), "unmarked values are not secrets"


def test_secret_texts_of_a_marked_mapping_are_only_those_under_secret_keys() -> None:
    values = marked(
        {
            "cluster_token": TOKEN,
            "cluster_code": "code-abcdef",
            "networkType": "overlay",
            "nested": {"password": "hunter2-long", "namespace": "illumio-system"},
            "kubeconfigs": {"api": "users: [token: abc]"},
        }
    )
    assert secret_texts(values) == {TOKEN, "code-abcdef", "hunter2-long", "users: [token: abc]"}


def test_secret_texts_marked_flag_treats_an_output_as_secret() -> None:
    assert secret_texts({"token": "dG9rZW4tdmFsdWU="}, marked=True) == {
        "dG9rZW4tdmFsdWU=",
        "token-value",
    }
    assert secret_texts(TOKEN, marked=True) == {TOKEN}


def test_scrub_replaces_secrets_inside_texts_and_keys() -> None:
    document = {"kubeconfig": f"user:\n  token: {TOKEN}\n", TOKEN: [f"x{TOKEN}y", 5]}
    assert scrub(document, {TOKEN}) == {
        "kubeconfig": f"user:\n  token: {REDACTED}\n",
        REDACTED: [f"x{REDACTED}y", 5],
    }


def test_scrub_replaces_the_longest_secret_first_and_ignores_short_ones() -> None:
    short = "x" * (MIN_SCRUB_LENGTH - 1)
    assert scrub(f"{TOKEN}-suffix and {short}", {TOKEN, TOKEN + "-suffix", short}) == (
        f"{REDACTED} and {short}"
    )
    assert scrub({"a": "b"}, set()) == {"a": "b"}


def test_scrubber_replaces_a_secret_exactly_as_long_as_the_text_and_leaves_shorter_text():
    scrub_secrets = Scrubber(["s3cr3t-token-value", "another-secret"])
    assert scrub_secrets.text("s3cr3t-token-value") == "[secret]"
    assert scrub_secrets.text("token") == "token"
    assert scrub_secrets("x another-secret y") == "x [secret] y"


def test_scrubber_replaces_the_longest_secret_whole_when_one_contains_another():
    scrub_secrets = Scrubber(["abcdef", "xxabcdefyy"])
    assert scrub_secrets.text("=xxabcdefyy= and =abcdef=") == "=[secret]= and =[secret]="


def test_scrubber_walks_keys_lists_and_nested_maps():
    scrub_secrets = Scrubber(["kubeconfig-token-1234"])
    document = {"a": [{"kubeconfig-token-1234": "v", "b": ("kubeconfig-token-1234",)}], "n": 3}
    assert scrub_secrets(document) == {"a": [{"[secret]": "v", "b": ["[secret]"]}], "n": 3}
