"""Google's naming rules for the names specs hold, as pure functions.

Each function returns why a name breaks its owner's rules, or None. They
know nothing of specs or targets: the rule modules decide where each applies
and cite the source (repeated here so the function can be checked alone).

The checks that cost more than a regex match are memoised: a tree of specs
names the same few projects, buckets and labels over and over, and each is
judged once per process (`_memo` bounds what is kept).
"""

from __future__ import annotations

import functools
import unicodedata
from typing import Final

from batchspec.patterns import lazy

# Resource Manager `Project.projectId`: "6 to 30 lowercase letters, digits, or
# hyphens. It must start with a letter. Trailing hyphens are prohibited."
# https://cloud.google.com/resource-manager/reference/rest/v1/projects
PROJECT_ID: Final = lazy(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
# Domain-scoped projects (`example.com:my-project`), still valid in resource
# names: https://cloud.google.com/resource-manager/docs/creating-managing-projects
_DOMAIN: Final = lazy(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")
PROJECT_NUMBER: Final = lazy(r"^[1-9][0-9]{0,19}$")
_memo = functools.lru_cache(maxsize=4096)


@_memo
def project_problem(value: str, *, number_ok: bool = True) -> str | None:
    """Why `value` is neither a project id, a domain-scoped id nor (if allowed) a
    project number."""
    if PROJECT_ID.match(value) or (number_ok and PROJECT_NUMBER.match(value)):
        return None
    domain, sep, local = value.rpartition(":")
    if sep and _DOMAIN.match(domain) and PROJECT_ID.match(local):
        return None
    if " " in value or value != value.strip():
        return "a project id holds no spaces"
    if not 6 <= len(value) <= 30:
        return f"a project id has 6 to 30 characters, not {len(value)}"
    return (
        "a project id holds lowercase letters, digits and hyphens, starts with a letter"
        " and does not end with a hyphen"
    )


# Cloud Storage bucket names: https://cloud.google.com/storage/docs/buckets#naming
_BUCKET_CHARS: Final = lazy(r"^[a-z0-9._-]+$")
_GOOGLE_LIKE: Final = lazy(r"g[o0][o0]g[l1]e")


@_memo
def bucket_problem(bucket: str) -> str | None:
    """Why `bucket` is not a Cloud Storage bucket name."""
    if not bucket:
        return "the bucket name is missing"
    if not _BUCKET_CHARS.match(bucket):
        return f"bucket {bucket!r}: only lowercase letters, digits, `-`, `_` and `.`" + (
            " (no uppercase)" if bucket.lower() != bucket else ""
        )
    limit = 222 if "." in bucket else 63
    if not 3 <= len(bucket) <= limit:
        return f"bucket {bucket!r}: 3 to {limit} characters, not {len(bucket)}"
    if any(len(part) > 63 or not part for part in bucket.split(".")):
        return f"bucket {bucket!r}: each dot-separated part has 1 to 63 characters"
    if not (bucket[0].isalnum() and bucket[-1].isalnum()):
        return f"bucket {bucket!r}: starts and ends with a letter or digit"
    if bucket.replace(".", "").isdigit():  # else IPv4Address refuses it (by a slow raise)
        try:
            import ipaddress  # rarely needed: a bucket name that looks like an address

            ipaddress.IPv4Address(bucket)
            return f"bucket {bucket!r} looks like an IP address"
        except ValueError:
            pass
    if bucket.startswith("goog"):
        return f"bucket {bucket!r}: names cannot begin with `goog`"
    if _GOOGLE_LIKE.search(bucket):
        return f"bucket {bucket!r}: names cannot contain `google` or a close misspelling"
    return None


# Cloud Storage object names: https://cloud.google.com/storage/docs/objects#naming
OBJECT_MAX_BYTES: Final = 1024


def object_problem(name: str) -> str | None:
    """Why `name` cannot be a Cloud Storage object name (empty names excluded:
    the caller knows whether a prefix may be empty)."""
    if "\r" in name or "\n" in name:
        return "object names cannot hold carriage returns or line feeds"
    # (a character is at most 4 bytes: most names need no encoding to know)
    if (
        len(name) * 4 > OBJECT_MAX_BYTES
        and len(name.encode("utf-8", "surrogatepass")) > OBJECT_MAX_BYTES
    ):
        return f"object names are at most {OBJECT_MAX_BYTES} bytes of UTF-8"
    if name in (".", ".."):
        return f"an object cannot be named {name!r}"
    if name.startswith(".well-known/acme-challenge/"):
        return "object names cannot start with .well-known/acme-challenge/"
    return None


def literal_segments(name: str) -> str | None:
    """`//`, `.` or `..` in an object path: Cloud Storage keeps them as written
    (its namespace is flat), which is rarely what the writer meant."""
    if "//" in name or name.startswith("/"):
        return "`//` makes an empty segment, which Cloud Storage keeps in the object name"
    if "." in name and any(part in (".", "..") for part in name.split("/")):
        return "`.` and `..` are kept literally in object names; nothing resolves them"
    return None


# BigQuery: datasets https://cloud.google.com/bigquery/docs/datasets#dataset-naming,
# tables https://cloud.google.com/bigquery/docs/tables#table_naming
_DATASET: Final = lazy(r"^[A-Za-z0-9_]{1,1024}$")
_TABLE_CATEGORIES: Final = ("L", "M", "N", "Pc", "Pd", "Zs")
_PARTITION: Final = lazy(r"^[0-9]{4,10}$|^__NULL__$|^__UNPARTITIONED__$")


def dataset_problem(dataset: str) -> str | None:
    """Why `dataset` is not a BigQuery dataset id."""
    if _DATASET.match(dataset):
        return None
    if len(dataset) > 1024:
        return f"dataset ids are at most 1024 characters, not {len(dataset)}"
    return f"dataset {dataset!r}: only letters, digits and underscores"


def _table_char(c: str) -> bool:
    category = unicodedata.category(c)
    return category[0] in "LMN" or category in _TABLE_CATEGORIES


@_memo
def table_problem(table: str) -> str | None:
    """Why `table` is not a BigQuery table id (a `$partition` decorator is allowed)."""
    name, sep, partition = table.partition("$")
    if sep and not _PARTITION.match(partition):
        return f"table {table!r}: `$` starts a partition decorator such as $20240131"
    if not name:
        return "the table name is empty"
    if len(name.encode("utf-8", "surrogatepass")) > 1024:
        return "table names are at most 1024 bytes of UTF-8"
    bad = sorted({c for c in name if not _table_char(c)})
    if bad:
        shown = ", ".join(repr(c) for c in bad[:5])
        return f"table {table!r}: {shown} not allowed (letters, marks, digits, `_`, `-`, spaces)"
    return None


# Labels. Google's label requirements
# (https://cloud.google.com/resource-manager/docs/labels-overview#requirements):
# lowercase letters, numeric characters, `_` and `-`; international characters
# allowed; keys start with a lowercase letter or an international character.
_LABEL_OK: Final = ("Ll", "Lo", "Lm", "Mn", "Mc", "Nd")


@_memo
def label_text_problem(text: str, *, key: bool) -> str | None:
    """Why `text` is not a label key (or value), length aside."""
    bad = sorted({c for c in text if c not in "_-" and unicodedata.category(c) not in _LABEL_OK})
    if bad:
        shown = ", ".join(repr(c) for c in bad[:5])
        upper = any(unicodedata.category(c) in ("Lu", "Lt") for c in bad)
        return f"{shown} not allowed" + (" (lowercase only)" if upper else "")
    if key and (not text or unicodedata.category(text[0]) not in ("Ll", "Lo")):
        return "keys start with a lowercase letter or an international character"
    return None


# An email address, as IAM names service accounts
# (`NAME@PROJECT.iam.gserviceaccount.com`, `N-compute@developer.gserviceaccount.com`):
# https://cloud.google.com/iam/docs/service-account-overview
_EMAIL: Final = lazy(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
SERVICE_ACCOUNT_DOMAIN: Final = "gserviceaccount.com"


def email_problem(value: str) -> str | None:
    """Why `value` is not an email address."""
    if _EMAIL.match(value):
        return None
    return f"{value!r} is not an email address"


__all__ = [
    "OBJECT_MAX_BYTES",
    "PROJECT_ID",
    "SERVICE_ACCOUNT_DOMAIN",
    "bucket_problem",
    "dataset_problem",
    "email_problem",
    "label_text_problem",
    "literal_segments",
    "object_problem",
    "project_problem",
    "table_problem",
]
