"""One redaction mechanism for state, renders, plans and job files."""

from __future__ import annotations

import pytest

from batchspec.state.redact import REDACTED, redact, redact_text, restore, split


@pytest.mark.parametrize(
    "key",
    [
        "API_KEY",
        "api-key",
        "db_password",
        "passwd",
        "authToken",
        "Authorization",
        "credentials",
        "private_key",
        "client_secret",
        "GITHUB_TOKEN",
    ],
)
def test_values_under_secret_looking_keys(key: str) -> None:
    assert redact({key: "s3cr3t-value"}) == {key: REDACTED}


@pytest.mark.parametrize("key", ["author", "authors", "model", "DSN", "description"])
def test_ordinary_keys_are_kept(key: str) -> None:
    assert redact({key: "plain"}) == {key: "plain"}


def test_keys_the_spec_marks() -> None:
    doc = {"metadata": {"secretKeys": ["DSN"]}, "env": {"DSN": "postgres://app@db/x"}}
    assert redact(doc, ["DSN"])["env"]["DSN"] == REDACTED
    assert redact(doc, ["DSN"])["metadata"]["secretKeys"] == ["DSN"], "the list itself is kept"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("postgres://app:pa55word@db:5432/prod", "postgres://app:<redacted>@db:5432/prod"),
        ("https://user:tok@example.com/x", "https://user:<redacted>@example.com/x"),
        ("Authorization: Bearer abcdef0123456789", "Authorization: Bearer <redacted>"),
        ("Basic dXNlcjpwYXNzd29yZA==", "Basic <redacted>"),
        ("key ghp_" + "a" * 36, "key <redacted>"),
        ("AIza" + "B" * 35, "<redacted>"),
        ("AKIAABCDEFGHIJKLMNOP", "<redacted>"),
        ("xoxb-123456789012-abcdef", "<redacted>"),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJl", "<redacted>"),
        ("sk-" + "x" * 32, "<redacted>"),
        ("-----BEGIN PRIVATE KEY-----\nMIIE...\n-----END PRIVATE KEY-----", "<redacted>"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMII", "<redacted>"),
        ("gs://bucket/path/file.jsonl", "gs://bucket/path/file.jsonl"),
        ("http://host:8080/predict", "http://host:8080/predict"),
        ("a token of appreciation", "a token of appreciation"),
    ],
)
def test_secrets_inside_any_string(text: str, shown: str) -> None:
    assert redact_text(text) == shown
    assert redact({"note": text, "list": [text]}) == {"note": shown, "list": [shown]}


@pytest.mark.parametrize(
    "value",
    ["${env:API_TOKEN}", "Bearer ${env:API_TOKEN}", " ${env:A}${env:B} "],
)
def test_references_stay_visible_even_under_secret_keys(value: str) -> None:
    assert redact({"API_TOKEN": value}) == {"API_TOKEN": value}
    assert redact_text(f"https://app:{value.strip()}@db/x") == f"https://app:{value.strip()}@db/x"


def test_a_reference_with_a_literal_beside_it_is_redacted() -> None:
    assert redact({"password": "pre-${env:X}"}) == {"password": REDACTED}


def test_split_and_restore_round_trip() -> None:
    body = {
        "env": {"API_KEY": "k", "URL": "https://u:p@h/", "N": None, "T": "${env:T}"},
        "args": [{"secret": {"nested": 1}}, "Bearer abcdefgh12345678"],
    }
    redacted, taken = split(body)
    assert redacted["env"] == {
        "API_KEY": REDACTED,
        "URL": "https://u:<redacted>@h/",
        "N": None,
        "T": "${env:T}",
    }
    assert redacted["args"] == [{"secret": REDACTED}, "Bearer <redacted>"]
    assert len(taken) == 4
    assert restore(redacted, taken) == body
    assert redact(redacted) == redacted, "redacting twice changes nothing"
