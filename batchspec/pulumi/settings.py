"""Stack configuration: what `Pulumi.<stack>.yaml` says, checked and typed.

Pulumi hands a program its configuration as a flat map of strings
(`batchspec:specs` -> `'["../specs"]'`, `gcp:project` -> `acme-ml-prod`):
structured values arrive as JSON text, scalars as plain text. `settings_from`
turns that map into `StackSettings` in one place, so the program, the tests
(which read the real stack files) and the docs agree on every key. Unknown
keys in the `batchspec:` namespace are errors with a did-you-mean, because a
misspelt `namePrefx` silently falling back to a default would rename every
resource of a stack.

No pulumi import here: the module is plain data and parsing.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from batchspec.errors import BatchspecError
from batchspec.model.enums import Target

NAMESPACE = "batchspec"
PREFIX_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
LABEL_KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
LABEL_VALUE_PATTERN = re.compile(r"^[a-z0-9_-]{0,63}$")
MEMBER_PATTERN = re.compile(r"^(user|serviceAccount|group|domain|principal|principalSet):\S+$")


class StackConfigError(BatchspecError):
    """The stack configuration is missing a value or holds a wrong one."""


@dataclass(frozen=True)
class StackSettings:
    """Everything the program needs from one stack's configuration.

    Paths are absolute (resolved against the Pulumi project folder), so the
    dynamic provider, which Pulumi runs as a separate process, finds the same
    files and the same state as the program did.
    """

    stack: str
    project_dir: Path
    name_prefix: str
    specs: tuple[Path, ...]
    state_path: Path
    home: Path
    select: tuple[str, ...] = ()
    targets: tuple[Target, ...] = ()
    run: tuple[str, ...] = ("*",)
    project: str | None = None
    region: str | None = None
    bucket_location: str | None = None
    output_retention_days: int | None = 30
    protect: bool = False
    force_destroy: bool = False
    manage_service_accounts: bool = True
    deployers: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    required_labels: tuple[str, ...] = ("team",)
    lock_timeout: float = 300.0

    @property
    def compile_env(self) -> dict[str, str]:
        """The environment specs are compiled with: the stack's project and region
        fill in what a spec leaves out, exactly as BATCHSPEC_PROJECT and
        BATCHSPEC_REGION do for `batchspec apply`."""
        env: dict[str, str] = {}
        if self.project:
            env["BATCHSPEC_PROJECT"] = self.project
        if self.region:
            env["BATCHSPEC_REGION"] = self.region
        return env


@dataclass(frozen=True)
class _Key:
    name: str
    parse: Callable[[str, Any], Any]
    help: str


def _text(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _bad(key, value, "a non-empty string")
    return value.strip()


def _decode(value: Any) -> Any:
    """Structured config arrives as JSON text; scalars as text."""
    if isinstance(value, str):
        stripped = value.strip()
        if stripped[:1] in "[{":
            try:
                return json.loads(stripped)
            except json.JSONDecodeError:
                return value
    return value


def _strings(key: str, value: Any) -> tuple[str, ...]:
    value = _decode(value)
    if isinstance(value, str):
        items = [part.strip() for part in value.split(",")]
        return tuple(item for item in items if item)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(v.strip() for v in value if v.strip())
    raise _bad(key, value, "a list of strings (or one comma-separated string)")


def _bool(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise _bad(key, value, "true or false")


def _number(key: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _bad(key, value, "a number") from None
    if number < 0:
        raise _bad(key, value, "a number of seconds, 0 or more")
    return number


def _days(key: str, value: Any) -> int | None:
    try:
        days = int(str(value).strip())
    except ValueError:
        raise _bad(key, value, "a whole number of days (0: keep outputs for ever)") from None
    if days < 0:
        raise _bad(key, value, "a whole number of days, 0 or more")
    return days or None


def _prefix(key: str, value: Any) -> str:
    text = _text(key, value)
    if not PREFIX_PATTERN.match(text):
        raise _bad(
            key,
            value,
            "lowercase letters, digits and '-', starting with a letter, at most 20 characters",
        )
    return text


def _targets(key: str, value: Any) -> tuple[Target, ...]:
    out = []
    known = [t.value for t in Target]
    for item in _strings(key, value):
        if item not in known:
            raise _bad(key, item, "one of " + ", ".join(known))
        out.append(Target(item))
    return tuple(out)


def _labels(key: str, value: Any) -> dict[str, str]:
    value = _decode(value)
    if not isinstance(value, dict):
        raise _bad(key, value, "a map of label keys to values")
    labels: dict[str, str] = {}
    for k, v in value.items():
        text = str(v)
        if not LABEL_KEY_PATTERN.match(str(k)) or not LABEL_VALUE_PATTERN.match(text):
            raise StackConfigError(
                f"config {NAMESPACE}:{key}: label {k}={text!r} breaks Google's label rules",
                hint="keys and values: lowercase letters, digits, '_' and '-', at most 63"
                " characters; keys start with a letter",
            )
        labels[str(k)] = text
    return labels


def _members(key: str, value: Any) -> tuple[str, ...]:
    members = _strings(key, value)
    for member in members:
        if not MEMBER_PATTERN.match(member):
            raise _bad(
                key,
                member,
                "IAM members such as serviceAccount:ci@my-project.iam.gserviceaccount.com",
            )
    return members


def _bad(key: str, value: Any, expected: str) -> StackConfigError:
    return StackConfigError(
        f"config {NAMESPACE}:{key} is {value!r}; expected {expected}",
        hint=f"fix it in Pulumi.<stack>.yaml or with `pulumi config set {NAMESPACE}:{key} ...`",
    )


KEYS: dict[str, _Key] = {
    k.name: k
    for k in (
        _Key("specs", _strings, "spec files or folders, relative to the project folder"),
        _Key("select", _strings, "only specs whose metadata.name matches one of these globs"),
        _Key("targets", _targets, "only specs for these targets (local, vertex, genai, ...)"),
        _Key("run", _strings, "name globs of the specs whose job run `pulumi up` creates"),
        _Key("namePrefix", _prefix, "prefix of every Pulumi resource name and stack label"),
        _Key("project", _text, "Google Cloud project for specs that name none"),
        _Key("region", _text, "region for specs that name none"),
        _Key("state", _text, "batchspec state file shared with `batchspec apply`"),
        _Key("home", _text, "folder of the local backend's jobs (BATCHSPEC_HOME)"),
        _Key("bucketLocation", _text, "location of output buckets (default: the job's region)"),
        _Key("outputRetentionDays", _days, "delete outputs after this many days (0: never)"),
        _Key("protect", _bool, "protect buckets and service accounts from deletion"),
        _Key("forceDestroy", _bool, "let `pulumi destroy` delete buckets that hold objects"),
        _Key("manageServiceAccounts", _bool, "create the service accounts specs name"),
        _Key("deployers", _members, "IAM members allowed to run jobs as the job accounts"),
        _Key("labels", _labels, "extra labels on every bucket"),
        _Key("requiredLabels", _strings, "label keys every job must carry (policy)"),
        _Key("lockTimeout", _number, "seconds to wait for the state's writer lease"),
    )
}


def settings_from(
    config: Mapping[str, Any], *, stack: str, project_dir: Path | str
) -> StackSettings:
    """Parse the flat config map Pulumi gives a program (keys `namespace:key`)."""
    root = Path(project_dir).resolve()
    values: dict[str, Any] = {}
    for full, value in config.items():
        namespace, _, key = full.partition(":")
        if namespace != NAMESPACE:
            continue
        if key not in KEYS:
            close = difflib.get_close_matches(key, list(KEYS), n=1)
            hint = f"did you mean `{NAMESPACE}:{close[0]}`?" if close else None
            raise StackConfigError(
                f"unknown config key {full}",
                hint=hint or "known keys: " + ", ".join(f"{NAMESPACE}:{k}" for k in KEYS),
            )
        values[key] = KEYS[key].parse(key, value)

    def path(key: str, default: str) -> Path:
        return (root / str(values.get(key, default))).resolve()

    project = values.get("project") or _plain(config.get("gcp:project"))
    region = values.get("region") or _plain(config.get("gcp:region"))
    specs = values.get("specs", ("../specs",))
    if not specs:
        raise _bad("specs", [], "at least one spec file or folder")
    return StackSettings(
        stack=stack,
        project_dir=root,
        name_prefix=values.get("namePrefix") or _prefix("namePrefix", _default_prefix(stack)),
        specs=tuple((root / s).resolve() for s in specs),
        state_path=path("state", "../.batchspec/state.db"),
        home=path("home", "../.batchspec"),
        select=values.get("select", ()),
        targets=values.get("targets", ()),
        run=values.get("run", ("*",)),
        project=project,
        region=region,
        bucket_location=values.get("bucketLocation"),
        output_retention_days=values.get("outputRetentionDays", 30),
        protect=values.get("protect", False),
        force_destroy=values.get("forceDestroy", False),
        manage_service_accounts=values.get("manageServiceAccounts", True),
        deployers=values.get("deployers", ()),
        labels=values.get("labels", {}),
        required_labels=values.get("requiredLabels", ("team",)),
        lock_timeout=values.get("lockTimeout", 300.0),
    )


def _plain(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _default_prefix(stack: str) -> str:
    """The stack name, made into a valid prefix (`Dev_EU` -> `dev-eu`)."""
    text = re.sub(r"[^a-z0-9-]+", "-", stack.lower()).strip("-")[:20]
    return text if text and text[0].isalpha() else f"s-{text}"[:20]
