"""Read a job's outputs wherever they are: a folder or files on local disk or
`gs://`, or BigQuery tables.

`read_results(locations)` takes what a backend's `outputs()` returns (or a
folder the local engine wrote, or a `bq://` table) and yields one
`ResultRecord` per output line or row, predictions first, then errors.

Nothing is dropped quietly. Files are grouped by folder; when the folder
holds the engine's manifest, every file it lists is checked (present, a
regular file, its size, sha256 and record count) and files it does not list
are reported; without one (Vertex AI, ML Engine), the sharded names
`-NNNNN-of-NNNNN` still say which results shard is missing. Lines that are
not records are counted. All of it lands in an `OutputCheck` (see
`batchspec.results.check`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from batchspec.errors import BatchspecError
from batchspec.io import storage
from batchspec.io.entries import Entry
from batchspec.results.check import DamagedOutputError, OutputCheck
from batchspec.results.formats import (
    FileKind,
    file_kind,
    parse_error,
    shard_name,
)
from batchspec.results.manifest import (
    MANIFEST_NAME,
    Manifest,
    ManifestEntry,
    ManifestError,
    join,
    read_manifest,
)
from batchspec.results.records import ResultRecord
from batchspec.results.shards import read_shard

_ORDER = {FileKind.PREDICTIONS: 0, FileKind.ERRORS: 1, FileKind.ERROR_STATS: 2}
_RESULTS_SHARD = re.compile(r"^prediction\.results-(\d{5})-of-(\d{5})$")


def _reading_order(name: str) -> tuple[int, str]:
    return (_ORDER[file_kind(name) or FileKind.PREDICTIONS], name)


def output_files(location: str) -> list[str]:
    """The result and error files in a folder (or the file itself), in reading order."""
    kind = file_kind(location)
    if kind is not None and not location.endswith("/"):
        return [location]
    found = [f for f in storage.list_files(location) if file_kind(f) is not None]
    if not found:
        raise _nothing_there(location)
    return sorted(found, key=lambda f: _reading_order(f.rsplit("/", 1)[-1]))


def _nothing_there(location: str) -> BatchspecError:
    return BatchspecError(
        f"no prediction output files in {location}",
        hint="expected predictions_*, errors_*, prediction.results-* or"
        " prediction.errors_stats-* files; is the job finished?",
    )


def read_file(
    url: str,
    *,
    output_format: str | None = None,
    check: OutputCheck | None = None,
    entry: ManifestEntry | None = None,
    engine: bool = False,
) -> Iterator[ResultRecord]:
    """Every record of one output file. `engine`: written by the local
    engine (its errors_stats lines are JSON objects, never tuples)."""
    kind = file_kind(url)
    if kind is None:
        raise BatchspecError(f"{url} is not a prediction output file")
    strict = check is None
    check = OutputCheck() if check is None else check
    csv_rows = kind is not FileKind.ERROR_STATS and (
        url.endswith(".csv") or (kind is FileKind.PREDICTIONS and output_format == "CSV")
    )
    try:
        handle = storage.open_regular(url)
    except FileNotFoundError:
        _lost(check, url, "missing", entry)
    except OSError as exc:
        _lost(check, url, f"cannot be read: {exc.strerror or exc}", entry)
    else:
        with handle:
            yield from read_shard(
                handle, url, kind, csv_rows=csv_rows, tuples=not engine, check=check, entry=entry
            )
    if strict and not check.ok:
        raise DamagedOutputError(check)


def _lost(check: OutputCheck, url: str, what: str, entry: ManifestEntry | None) -> None:
    lost = entry.records if entry is not None and entry.records is not None else 0
    check.add(url, what + (f" ({lost} record(s) lost)" if lost else ""), lost)


def read_table(uri: str, *, client: Any = None) -> Iterator[ResultRecord]:
    """Rows of a Vertex predictions or errors table in BigQuery.

    Predictions rows hold the instance columns (or `key`) and `prediction`;
    errors rows hold the instance columns and `errors` (code, message). A
    missing errors table means no errors. Rows of one table may differ in
    shape (the local engine writes keyed rows, and an unreadable input line
    as one `instance` column, side by side): columns that are NULL in a row
    are not part of its instance."""
    from batchspec.io.bigquery import read_rows

    name = uri.rsplit(".", 1)[-1]
    errors_table = name.startswith("errors")
    for row in read_rows(uri, client=client, missing_ok=errors_table):
        values = dict(row)
        key = values.pop("key", None)
        if errors_table:
            status = _decode(values.pop("errors", values.pop("error", "prediction failed")))
            yield ResultRecord(
                key=key, instance=_instance(values), error=parse_error(status), source=uri
            )
        else:
            prediction = _decode(values.pop("prediction", None))
            yield ResultRecord(
                key=key, instance=_instance(values), prediction=prediction, source=uri
            )


def _instance(values: dict[str, Any]) -> Any:
    """The instance a row's remaining columns hold: None when every one is
    NULL, the value of a lone `instance` column, else the columns."""
    present = {k for k, v in values.items() if v is not None}
    if not present:
        return None
    if present == {"instance"}:
        return values["instance"]
    return values


def _decode(value: Any) -> Any:
    """Predictions written as JSON text come back as JSON."""
    if isinstance(value, str) and value[:1] in "{[":
        import json

        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def read_results(
    locations: str | Iterable[str],
    *,
    bigquery_client: Any = None,
    output_format: str | None = None,
    check: OutputCheck | None = None,
) -> Iterator[ResultRecord]:
    """Every record under `locations`: folders, files and `bq://` tables.

    `output_format` is the job's (`JSONL`, `CSV`); a manifest's own wins.
    Damage goes to `check`; without one, `DamagedOutputError` is raised after
    the last readable record."""
    strict = check is None
    check = OutputCheck() if check is None else check
    for folder, names in _groups([locations] if isinstance(locations, str) else locations):
        if folder.startswith("bq://"):
            yield from read_table(folder, client=bigquery_client)
        else:
            yield from _read_folder(folder, names, output_format, check)
    if strict and not check.ok:
        raise DamagedOutputError(check)


def _groups(locations: Iterable[str]) -> list[tuple[str, list[str] | None]]:
    """(folder, file names or None for the whole folder), in first-seen order."""
    groups: dict[str, list[str] | None] = {}
    for location in locations:
        if location.startswith("bq://") or file_kind(location) is None or location.endswith("/"):
            groups[location.rstrip("/") if not location.startswith("bq://") else location] = None
            continue
        folder, _, name = location.rpartition("/")
        names = groups.setdefault(folder, [])
        if names is not None and name not in names:
            names.append(name)
    return list(groups.items())


def _read_folder(
    folder: str, names: list[str] | None, output_format: str | None, check: OutputCheck
) -> Iterator[ResultRecord]:
    manifest: Manifest | None = None
    try:
        manifest = read_manifest(folder, (MANIFEST_NAME,))
    except ManifestError as exc:
        check.add(join(folder, MANIFEST_NAME), f"unreadable manifest: {exc}")
    fmt = ((manifest.output_format if manifest else None) or output_format or "JSONL").upper()
    present = {e.name: e for e in storage.entries(folder) or [] if file_kind(e.name)}
    listed = {e.name: e for e in manifest.entries if file_kind(e.name)} if manifest else {}
    wanted = set(present) if names is None else set(names)
    # Files the manifest lists are all read; asked for a few files, the
    # others it lists are only checked for being there.
    lost = {n for n in listed if n not in present or not present[n].is_file}
    if names is None:
        wanted |= set(listed)
    else:
        wanted |= lost
    if not wanted and not listed:
        raise _nothing_there(folder)
    for name in sorted(wanted, key=_reading_order):
        url = join(folder, name)
        entry = listed.get(name)
        found = present.get(name, Entry(url, "missing"))
        if manifest is not None and entry is None:
            check.add(url, "is not in the job's manifest (written after the job?); not read")
        elif not found.is_file:
            what = "missing" if found.kind == "missing" else f"is a {found.kind}, not a file"
            _lost(check, url, what, entry)
        else:
            yield from read_file(
                url, output_format=fmt, check=check, entry=entry, engine=manifest is not None
            )
    if manifest is None:
        _missing_shards(folder, set(present), check)


def _missing_shards(folder: str, names: set[str], check: OutputCheck) -> None:
    """Without a manifest, `prediction.results-i-of-n` still says n shards."""
    seen: dict[int, set[int]] = {}
    for name in names:
        match = _RESULTS_SHARD.match(name)
        if match:
            seen.setdefault(int(match[2]), set()).add(int(match[1]))
    for count, indexes in sorted(seen.items()):
        for index in sorted(set(range(count)) - indexes):
            name = shard_name("results", index, count)
            check.add(join(folder, name), f"missing (results shard {index + 1} of {count})")


__all__ = ["output_files", "read_file", "read_results", "read_table"]
