"""One shard, start to finish: read -> shape -> batch -> predict -> write -> publish.

This is the engine's inner loop and the only code that touches every
instance, so it is written for speed: msgspec for JSON both ways, a whole
batch encoded in one call, no per-instance objects beyond the tuples the
readers yield. Errors are the slow path: only they build messages.

Per-instance failures (an unreadable line, an instance the fields config
cannot shape, a model that raises on one instance, a prediction that is not
JSON) become lines in the shard's errors file and are counted; failures of
the model itself (`EngineError`) propagate and fail the job.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from batchspec.engine.errors import InputError, InstanceError, ModelContractError
from batchspec.engine.formats import INVALID, Block, csv_header, read_blocks, table_columns
from batchspec.engine.instances import (
    FieldConfig,
    Shaper,
    object_shaper,
    row_shaper,
    table_shaper,
)
from batchspec.engine.output import FileInfo, OutputFile, OutputStore
from batchspec.engine.plan import Shard
from batchspec.engine.runners.base import Runner
from batchspec.errors import EngineError
from batchspec.model.enums import DataFormat
from batchspec.results.formats import shard_name

Report = Callable[[int, int], None]
RECORD_FORMATS = frozenset({DataFormat.TF_RECORD, DataFormat.TF_RECORD_GZIP})


@dataclass(frozen=True)
class ShardJob:
    """What every shard of a job shares (sent to each worker once)."""

    input_format: DataFormat
    output_format: DataFormat
    fields: FieldConfig
    tf_decode: str
    batch_size: int
    shard_count: int
    store: OutputStore


@dataclass(frozen=True)
class ShardResult:
    """A published shard: its two files and its counts."""

    index: int
    results: FileInfo
    errors: FileInfo
    completed: int
    failed: int

    def to_json(self) -> dict[str, Any]:
        """JSON-ready record."""
        return {
            "index": self.index,
            "results": self.results.__dict__,
            "errors": self.errors.__dict__,
            "completed": self.completed,
            "failed": self.failed,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ShardResult:
        """Read a record."""
        return cls(
            index=data["index"],
            results=FileInfo(**data["results"]),
            errors=FileInfo(**data["errors"]),
            completed=data["completed"],
            failed=data["failed"],
        )


def _enc_hook(obj: Any) -> Any:
    """numpy scalars and arrays (what models return) as plain JSON values."""
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "item"):
        return obj.item()
    if isinstance(obj, set | frozenset):
        return sorted(obj, key=repr)
    raise NotImplementedError(f"objects of type {type(obj).__name__} are not JSON")


def _error_text(exc: BaseException) -> tuple[str, str]:
    if isinstance(exc, InstanceError):
        return exc.status, exc.message
    return "INTERNAL", f"{type(exc).__name__}: {exc}"


def predict_batch(
    runner: Runner, instances: list[Any]
) -> tuple[Sequence[Any], dict[int, tuple[str, str]]]:
    """Predictions for a batch, and the errors of the instances that failed.

    A batch that raises is retried instance by instance when the runner allows
    it, so one bad instance fails alone.
    """
    try:
        preds = runner.predict(instances)
    except EngineError:
        raise
    except Exception as exc:
        whole = isinstance(exc, InstanceError) and not exc.isolate
        if len(instances) == 1 or not runner.isolate_failures or whole:
            return [None] * len(instances), dict.fromkeys(range(len(instances)), _error_text(exc))
        return _one_by_one(runner, instances)
    _check_count(preds, len(instances))
    return preds, {}


def _one_by_one(
    runner: Runner, instances: list[Any]
) -> tuple[Sequence[Any], dict[int, tuple[str, str]]]:
    preds: list[Any] = []
    errors: dict[int, tuple[str, str]] = {}
    for i, inst in enumerate(instances):
        try:
            out = runner.predict([inst])
        except EngineError:
            raise
        except Exception as exc:
            errors[i] = _error_text(exc)
            preds.append(None)
            continue
        _check_count(out, 1)
        preds.append(out[0])
    return preds, errors


def _check_count(preds: Sequence[Any], n: int) -> None:
    try:
        got = len(preds)
    except TypeError:
        raise ModelContractError(
            f"the model returned a {type(preds).__name__}, not a list of predictions",
            hint="predict(instances) must return one prediction per instance, in order",
        ) from None
    if got != n:
        raise ModelContractError(
            f"the model returned {got} predictions for {n} instances",
            hint="predict(instances) must return one prediction per instance, in order",
        )


class _Results:
    """Encodes result lines (JSONL, or CSV with a header)."""

    def __init__(self, fmt: DataFormat, field: str) -> None:
        self.csv = fmt is DataFormat.CSV
        self.field = field
        self._encoder = msgspec.json.Encoder(enc_hook=_enc_hook)
        # a result line as a struct: built by map in C and encoded with its
        # two names written once, the same bytes as the dict {field: ..., "prediction": ...}
        self._line = msgspec.defstruct("ResultLine", [(field, Any), ("prediction", Any)])

    def header(self) -> bytes:
        return f"{self.field},prediction\n".encode() if self.csv else b""

    def encode(self, refs: Sequence[Any], preds: Sequence[Any]) -> bytes:
        """Raises TypeError/ValueError when a value is not JSON."""
        if self.csv:
            return self._encode_csv(refs, preds)
        if len(refs) != len(preds):
            raise ValueError(f"{len(refs)} instances, {len(preds)} predictions")
        return self._encoder.encode_lines(list(map(self._line, refs, preds)))

    def _cell(self, value: Any) -> Any:
        if value is None:
            return ""
        if isinstance(value, str | int | float | bool):
            return value
        return self._encoder.encode(value).decode()

    def _encode_csv(self, refs: Sequence[Any], preds: Sequence[Any]) -> bytes:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        for v, p in zip(refs, preds, strict=True):
            writer.writerow([self._cell(v), self._cell(p)])
        return buf.getvalue().encode()


class ShardRun:
    """State of one shard being processed.

    Instances gather into batches of `batch_size`; a full batch is predicted
    and written at once. A clean block of input (see `formats.Block`) joins
    the batch in a few list operations; a block with problems goes instance
    by instance, so its error lines land in the same order as ever."""

    def __init__(self, job: ShardJob, shard: Shard, runner: Runner, report: Report) -> None:
        self.job = job
        self.shard = shard
        self.runner = runner
        self.report = report
        self.completed = 0
        self.failed = 0
        self._shaper = self._make_shaper()
        self._results_enc = _Results(job.output_format, self._shaper.field)
        self._errors_enc = msgspec.json.Encoder(enc_hook=_enc_hook)
        self._records = job.input_format in RECORD_FORMATS
        self.batch_size = int(getattr(runner, "batch_size", job.batch_size))
        self._batch: list[Any] = []  # what the model receives
        self._refs: list[Any] = []  # the output field's values
        self._numbers: list[int] = []  # where each came from

    def _where(self, number: int) -> str:
        if self._records:
            return f"{self.shard.uri} record {number}"
        if self.job.input_format is DataFormat.BIGQUERY:
            return f"{self.shard.uri} row {number}"
        return f"{self.shard.uri}:{number}"

    def _make_shaper(self) -> Shaper:
        job = self.job
        try:
            if job.input_format is DataFormat.CSV:
                return row_shaper(job.fields, csv_header(self.shard.uri))
            if job.input_format is DataFormat.BIGQUERY:
                return table_shaper(job.fields, table_columns(self.shard.uri))
            return object_shaper(job.fields)
        except ValueError as exc:
            raise InputError(f"{self.shard.uri}: {exc}", hint="fix the input settings") from None

    # --- error lines -------------------------------------------------------------

    def _error_line(self, field: str, value: Any, status: str, message: str) -> bytes:
        line = {field: value, "error": {"status": status, "message": message}}
        try:
            return self._errors_enc.encode(line) + b"\n"
        except (TypeError, ValueError, NotImplementedError):
            line[field] = repr(value)
            return self._errors_enc.encode(line) + b"\n"

    def _fail(self, value: Any, status: str, number: int, message: str) -> None:
        """An instance that never reached the model: an error line now."""
        line = self._error_line("instance", value, status, f"{self._where(number)}: {message}")
        self._errors.write(line, 1)
        self.failed += 1

    # --- the loop ----------------------------------------------------------------

    def run(self, results: OutputFile, errors: OutputFile) -> None:
        """Process every item; write results and errors."""
        self._out, self._errors = results, errors
        results.write(self._results_enc.header(), 0)
        job = self.job
        for block in read_blocks(self.shard, job.input_format, tf_decode=job.tf_decode):
            columns = self._shaper.many(block.values) if block.problems is None else None
            if columns is not None:
                self._add(columns[0], columns[1], block.numbers)
            else:
                self._one_by_one(block)
        if self._batch:
            self._flush(self._batch, self._refs, self._numbers)

    def _one_by_one(self, block: Block) -> None:
        for number, value, problem in block.items():
            if problem is not None:
                self._fail(value, problem[0], number, problem[1])
                continue
            try:
                inst, _, ref = self._shaper(value)
            except ValueError as exc:
                self._fail(value, INVALID, number, str(exc))
                continue
            self._add([inst], [ref], (number,))

    def _add(self, insts: list[Any], refs: list[Any], numbers: Sequence[int]) -> None:
        """Join the batch; predict and write every full batch."""
        size = self.batch_size
        batch, self._batch = self._batch, []
        batch.extend(insts)
        self._refs.extend(refs)
        self._numbers.extend(numbers)
        start = 0
        while len(batch) - start >= size:
            stop = start + size
            self._flush(batch[start:stop], self._refs[start:stop], self._numbers[start:stop])
            start = stop
        if start:
            del batch[:start], self._refs[:start], self._numbers[:start]
        self._batch = batch

    def _flush(self, batch: list[Any], refs: list[Any], numbers: list[int]) -> None:
        failed_before = self.failed
        preds, failures = predict_batch(self.runner, batch)
        if not failures:
            try:
                self._out.write(self._results_enc.encode(refs, preds), len(refs))
                self.completed += len(refs)
            except (TypeError, ValueError, NotImplementedError):
                self._write_each(refs, preds, {}, numbers)
        else:
            self._write_each(refs, preds, failures, numbers)
        self.report(len(batch) - (self.failed - failed_before), self.failed - failed_before)

    def _write_each(
        self,
        refs: list[Any],
        preds: Sequence[Any],
        failures: dict[int, tuple[str, str]],
        numbers: list[int],
    ) -> None:
        field = self._shaper.field
        for i, (ref, pred) in enumerate(zip(refs, preds, strict=True)):
            failure = failures.get(i)
            if failure is None:
                try:
                    self._out.write(self._results_enc.encode([ref], [pred]), 1)
                    self.completed += 1
                    continue
                except (TypeError, ValueError, NotImplementedError) as exc:
                    failure = ("INTERNAL", f"the prediction cannot be written as JSON: {exc}")
            status, message = failure
            line = self._error_line(field, ref, status, f"{self._where(numbers[i])}: {message}")
            self._errors.write(line, 1)
            self.failed += 1


def process_shard(job: ShardJob, shard: Shard, runner: Runner, report: Report) -> ShardResult:
    """Run one shard and publish its two files; returns what was published."""
    n = job.shard_count
    results_name = shard_name("results", shard.index, n)
    errors_name = shard_name("errors_stats", shard.index, n)
    results = OutputFile(job.store.staging_file(results_name))
    errors = OutputFile(job.store.staging_file(errors_name))
    run = ShardRun(job, shard, runner, report)
    try:
        run.run(results, errors)
        results_info = results.finish(results_name)
        errors_info = errors.finish(errors_name)
    except BaseException:
        results.abort()
        errors.abort()
        raise
    job.store.publish(results.path, results_name)
    job.store.publish(errors.path, errors_name)
    return ShardResult(shard.index, results_info, errors_info, run.completed, run.failed)
