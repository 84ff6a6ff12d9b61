"""Keep secrets out of everything batchspec writes or shows: one mechanism.

Specs live in git and should hold no secrets (`${env:NAME}` references keep
them out, see `batchspec.secrets`), but a model runner's `env` or
`modelParameters` is where someone will paste a token. So every copy of a
body or spec that batchspec keeps or prints goes through `redact` first: the
state file, `render`, plans (text, markdown, JSON, saved plans) and the
local engine's job.json. The job itself is submitted with the real values.

What is redacted:

* the value under a key that looks secret (`API_KEY`, `db_password`,
  `authToken`, `credentials`, `private_key`...) or that the spec marks as
  secret (`metadata.secretKeys`);
* inside any string: private keys (PEM), bearer/basic credentials, the
  password of a URL with user info (`https://user:<redacted>@host`), and
  tokens in well-known formats (GitHub, Google API keys, AWS access key ids,
  Slack, JWTs, `sk-...` API keys).

References are not secrets and stay visible: `API_KEY: ${env:API_KEY}` is
shown as written, so a plan still shows which variable a job reads.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from batchspec.secrets import REFERENCE, only_references

REDACTED = "<redacted>"
MARK_KEY = "secretKeys"
_SECRET_KEY = re.compile(
    r"(secret|token|passw(or)?d|passwd|credential|api[_-]?key|private[_-]?key"
    r"|auth(?!or(?:s|ed|ship)?(?![a-z])))",  # `authToken`, `Authorization`, not `author`
    re.I,
)
_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")
_IN_TEXT = (
    # scheme://user:password@host
    re.compile(r"(?P<keep>\b[a-z][a-z0-9+.-]*://[^/\s:@]*:)(?P<secret>[^/\s@]+)(?=@)", re.I),
    # Authorization: Bearer xyz / Basic xyz / Token xyz
    re.compile(r"(?P<keep>\b(?:bearer|basic|token)\s+)(?P<secret>[A-Za-z0-9._~+/=-]{8,})", re.I),
    # well-known token formats
    re.compile(
        r"(?P<keep>)(?P<secret>\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}"
        r"|AIza[0-9A-Za-z_-]{35}|AKIA[0-9A-Z]{16}|xox[abposr]-[A-Za-z0-9-]{10,}"
        r"|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+"
        r"|sk-[A-Za-z0-9_-]{20,}|sk_live_[A-Za-z0-9]{16,}))"
    ),
)
_HARMLESS_REST = re.compile(r"^\s*(?:(?:bearer|basic|token)\s+)?$", re.I)

Path = tuple[str | int, ...]


def is_secret_key(key: str, marked: Collection[str] = ()) -> bool:
    """True for keys such as `API_KEY`, `db_password`, `authToken`, or one
    the spec marks as secret."""
    if key == MARK_KEY:  # the list of secret keys itself
        return False
    return key in marked or bool(_SECRET_KEY.search(key))


def redact(value: Any, marked: Collection[str] = ()) -> Any:
    """A copy of `value` with secrets replaced (see the module docstring).
    `marked`: key names the spec declares secret (`metadata.secretKeys`)."""
    return split(value, marked)[0]


def split(value: Any, marked: Collection[str] = ()) -> tuple[Any, list[tuple[Path, Any]]]:
    """The redacted copy of `value`, and (path, original value) of every
    replacement, so a holder of both can put the originals back (`restore`)."""
    found: list[tuple[Path, Any]] = []
    return _walk(value, (), frozenset(marked), found), found


def _walk(value: Any, path: Path, marked: frozenset[str], found: list[tuple[Path, Any]]) -> Any:
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            here = (*path, k)
            if isinstance(k, str) and is_secret_key(k, marked) and not _reference(v):
                if v is not None and v != REDACTED:
                    found.append((here, v))
                out[k] = REDACTED if v is not None else None
            else:
                out[k] = _walk(v, here, marked, found)
        return out
    if isinstance(value, list | tuple):
        return [_walk(v, (*path, i), marked, found) for i, v in enumerate(value)]
    if isinstance(value, str):
        cleaned = redact_text(value)
        if cleaned != value:
            found.append((path, value))
        return cleaned
    return value


def _reference(value: Any) -> bool:
    """A string that names variables and holds nothing secret itself
    (`${env:TOKEN}`, `Bearer ${env:TOKEN}`)."""
    if not isinstance(value, str) or not REFERENCE.search(value):
        return False
    return bool(_HARMLESS_REST.match(REFERENCE.sub("", value)))


def redact_text(text: str) -> str:
    """`text` with private keys, credentials in URLs and headers, and known
    token formats replaced; references are left alone."""
    if _PEM.search(text):
        return REDACTED
    for pattern in _IN_TEXT:
        text = pattern.sub(_keep_references, text)
    return text


def _keep_references(match: re.Match[str]) -> str:
    secret = match["secret"]
    if only_references(secret):
        return match[0]
    return match["keep"] + REDACTED


def restore(redacted: Any, found: list[tuple[Path, Any]]) -> Any:
    """Put the originals `split` took out back into (a copy of) `redacted`."""
    import copy

    out = copy.deepcopy(redacted)
    for path, original in found:
        if not path:
            return original
        node = out
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = original
    return out


def marked_keys(spec: Any) -> tuple[str, ...]:
    """The key names a spec (a BatchPredictionJobSpec or its JSON) marks secret."""
    metadata = getattr(spec, "metadata", None)
    if metadata is not None:
        return tuple(getattr(metadata, "secret_keys", None) or ())
    if isinstance(spec, Mapping):
        keys = (spec.get("metadata") or {}).get(MARK_KEY) or ()
        return tuple(k for k in keys if isinstance(k, str))
    return ()


def redact_job_body(job: Any) -> Any:
    """A compiled job's body, redacted with the keys its spec marks."""
    return redact(job.body, marked_keys(job.spec))


__all__ = [
    "REDACTED",
    "is_secret_key",
    "marked_keys",
    "redact",
    "redact_job_body",
    "redact_text",
    "restore",
    "split",
]
