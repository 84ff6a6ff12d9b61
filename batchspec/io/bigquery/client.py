"""`bq://` URLs, clients and the error mapping every BigQuery call goes through.

Kept apart from reading and writing because both use it, and because it is
the only place that knows about the emulator (`BIGQUERY_EMULATOR_HOST`) and
about turning google-cloud / google-auth errors into BatchspecErrors with a
hint: callers never see a client library's exception.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from batchspec.errors import BatchspecError

SCHEME = "bq://"
EMULATOR_ENV = "BIGQUERY_EMULATOR_HOST"


@dataclass(frozen=True)
class BigQueryRef:
    """A parsed `bq://project[.dataset[.table]]`."""

    project: str
    dataset: str | None = None
    table: str | None = None

    @property
    def uri(self) -> str:
        return SCHEME + ".".join(p for p in (self.project, self.dataset, self.table) if p)

    @property
    def table_id(self) -> str:
        """`project.dataset.table`, as google-cloud-bigquery wants it."""
        if not self.dataset or not self.table:
            raise BatchspecError(f"{self.uri} does not name a table")
        return f"{self.project}.{self.dataset}.{self.table}"


def parse_uri(uri: str) -> BigQueryRef:
    """`bq://p.d.t` -> BigQueryRef; a bad URL is a BatchspecError with a hint."""
    if not uri.startswith(SCHEME):
        raise BatchspecError(f"{uri!r} is not a bq:// URL", hint="write bq://project.dataset.table")
    parts = uri[len(SCHEME) :].split(".")
    if not 1 <= len(parts) <= 3 or not all(parts):
        raise BatchspecError(
            f"{uri!r} is not bq://project[.dataset[.table]]",
            hint="write bq://project.dataset.table",
        )
    return BigQueryRef(*parts)


def _missing_library() -> BatchspecError:
    return BatchspecError(
        "bq:// needs google-cloud-bigquery", hint="pip install 'batchspec[bigquery]'"
    )


def make_client(project: str | None = None, credentials: Any = None) -> Any:
    """A google-cloud-bigquery Client (the emulator's, when BIGQUERY_EMULATOR_HOST is set)."""
    try:
        from google.cloud import bigquery
    except ImportError:
        raise _missing_library() from None
    host = os.environ.get(EMULATOR_ENV, "").strip()
    if host:
        from google.api_core.client_options import ClientOptions
        from google.auth.credentials import AnonymousCredentials

        endpoint = host if host.startswith("http") else f"http://{host}"
        return bigquery.Client(
            project=project,
            credentials=credentials or AnonymousCredentials(),  # type: ignore[no-untyped-call]
            client_options=ClientOptions(api_endpoint=endpoint),
        )
    with api_errors("connecting to BigQuery"):
        return bigquery.Client(project=project, credentials=credentials)


def process_client(project: str) -> Any:
    """One client per project and process (worker processes are forked, and a
    client's HTTP session must not cross a fork)."""
    return _process_client(project, os.environ.get(EMULATOR_ENV, ""), os.getpid())


@lru_cache(maxsize=8)
def _process_client(project: str, emulator: str, pid: int) -> Any:
    return make_client(project)


@contextmanager
def api_errors(action: str) -> Iterator[None]:
    """google-cloud and google-auth errors raised inside as BatchspecErrors
    that say what failed and what to check (never a traceback for a refused
    call or missing credentials)."""
    try:
        from google.api_core import exceptions
        from google.auth import exceptions as auth_exceptions
    except ImportError:
        raise _missing_library() from None
    try:
        yield
    except exceptions.Forbidden as exc:
        raise BatchspecError(
            f"{action}: {exc.message}",
            hint="check that the BigQuery API is enabled and that the caller has the BigQuery"
            " roles on the dataset (docs/cloud.md, IAM roles)",
        ) from None
    except exceptions.GoogleAPIError as exc:
        raise BatchspecError(f"{action}: {exc}") from None
    except auth_exceptions.GoogleAuthError as exc:
        raise BatchspecError(
            f"{action}: no usable credentials ({exc})",
            hint="run `gcloud auth application-default login`, or set"
            " GOOGLE_APPLICATION_CREDENTIALS",
        ) from None


class TableNotFoundError(BatchspecError):
    """The table a URL names does not exist (or the caller cannot see it)."""


def not_found(what: str, hint: str) -> TableNotFoundError:
    return TableNotFoundError(f"BigQuery {what} not found", hint=hint)


TABLE_HINT = (
    "check the project, dataset and table names, and that the caller has"
    " roles/bigquery.dataViewer on the dataset"
)
