"""google.rpc status codes: the one vocabulary for a failure's status.

Google's APIs report errors as google.rpc.Status (a code and a message);
batch prediction error files and tables carry the same codes. batchspec
speaks it in three places: the cloud backends name an HTTP answer's status
(`backends/retry.py`), the local engine names a model server's non-200
answer (`engine/runners/http.py`), and a BigQuery errors table holds the
code's number (`engine/tables.py`).

`HTTP_STATUS` is google.rpc code.proto's HTTP mapping read backwards: for an
HTTP status that several codes share, the one an API call's failure means
(409: ALREADY_EXISTS, 500: INTERNAL); 502 and 503 are UNAVAILABLE, as a
proxy's answer is.
"""

from __future__ import annotations

CODES: dict[str, int] = {
    "OK": 0,
    "CANCELLED": 1,
    "UNKNOWN": 2,
    "INVALID_ARGUMENT": 3,
    "DEADLINE_EXCEEDED": 4,
    "NOT_FOUND": 5,
    "ALREADY_EXISTS": 6,
    "PERMISSION_DENIED": 7,
    "RESOURCE_EXHAUSTED": 8,
    "FAILED_PRECONDITION": 9,
    "ABORTED": 10,
    "OUT_OF_RANGE": 11,
    "UNIMPLEMENTED": 12,
    "INTERNAL": 13,
    "UNAVAILABLE": 14,
    "DATA_LOSS": 15,
    "UNAUTHENTICATED": 16,
}

HTTP_STATUS: dict[int, str] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    409: "ALREADY_EXISTS",
    412: "FAILED_PRECONDITION",
    413: "OUT_OF_RANGE",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def code_number(status: str | int | None) -> int:
    """The number of a code given by name (or already a number); UNKNOWN otherwise."""
    if isinstance(status, int):
        return status
    return CODES.get(str(status), CODES["UNKNOWN"])


__all__ = ["CODES", "HTTP_STATUS", "code_number"]
