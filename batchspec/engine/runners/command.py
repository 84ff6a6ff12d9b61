"""A command following batchspec's local file contract for custom containers.

For each chunk of instances the engine writes one input file, one JSON
instance per line, and runs the command with:

* AIP_BATCH_INPUT_URIS: the input files, comma separated (local paths);
* AIP_BATCH_OUTPUT_DIR: an empty folder.

The command must write, for each input file, a file of the same name in
AIP_BATCH_OUTPUT_DIR holding one JSON prediction per input line, in order,
and exit 0. These variables are batchspec's own local convention, modelled on
how Vertex AI hands a batch container its files: Vertex AI does not set them (it talks to
serving containers over HTTP; use the `http` runner to test that contract).
A command that exits non-zero, writes to a fixed path instead of the given
folder, or writes the wrong number of lines fails the job with a message
that says so.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec

from batchspec.engine.errors import ModelContractError
from batchspec.engine.runners import process
from batchspec.engine.runners.base import RunnerContext
from batchspec.engine.runners.causes import Exit, diagnose, hung
from batchspec.model.base import memory_bytes
from batchspec.model.runners import HANG_TIMEOUT_SECONDS
from batchspec.model.spec import CommandRunner

CHUNK_BATCHES = 64


class CommandModel:
    """Runs the command once per chunk of `batchSize * 64` instances."""

    isolate_failures = False

    def __init__(self, cfg: CommandRunner, ctx: RunnerContext) -> None:
        self._cfg = cfg
        self._ctx = ctx
        self.batch_size = ctx.batch_size * CHUNK_BATCHES
        self._encoder = msgspec.json.Encoder()
        self._decoder = msgspec.json.Decoder()
        self._runs = 0
        if not cfg.command:
            raise ModelContractError("the command runner needs a command")

    def predict(self, instances: list[Any]) -> Sequence[Any]:
        """Run the command over one chunk."""
        self._runs += 1
        base = Path(tempfile.mkdtemp(prefix="command-", dir=self._ctx.log_dir))
        try:
            return self._run(instances, base)
        finally:
            shutil.rmtree(base, ignore_errors=True)

    def _run(self, instances: list[Any], base: Path) -> list[Any]:
        cfg = self._cfg
        (base / "input").mkdir()
        out_dir = base / "output"
        out_dir.mkdir()
        name = f"instances-w{self._ctx.worker}-{self._runs:05d}.jsonl"
        in_file = base / "input" / name
        in_file.write_bytes(self._encoder.encode_lines(instances))
        env = {
            **os.environ,
            **self._ctx.env,
            **cfg.env,
            "AIP_BATCH_INPUT_URIS": str(in_file),
            "AIP_BATCH_OUTPUT_DIR": str(out_dir),
            "AIP_MODEL_NAME": self._ctx.job_name,
        }
        log_path = (self._ctx.log_dir or base) / f"command-{self._ctx.worker}.log"
        command = " ".join(cfg.command)
        limit = memory_bytes(cfg.memory) if cfg.memory else None
        with open(log_path, "ab") as log:
            start = log.tell()
            proc = process.spawn(cfg.command, env=env, cwd=self._ctx.spec_dir, log=log)
            try:
                ended = process.watch(
                    proc,
                    timeout=cfg.timeout_seconds,
                    hang_timeout=cfg.hang_timeout_seconds or HANG_TIMEOUT_SECONDS,
                    memory_limit=limit,
                    activity=lambda: _written(log_path, out_dir),
                )
            finally:
                process.stop(proc, grace=1.0)
        hint_log = f"its log is {log_path}"
        tail = process.tail(log_path, start=start)
        if tail:
            hint_log += f"; it ends with:\n{tail}"
        what = f"the command `{command}`"
        if ended.stopped == "timeout":
            raise ModelContractError(
                f"{what} ran longer than {cfg.timeout_seconds:g}s",
                hint=f"raise `timeoutSeconds`; {hint_log}",
            )
        if ended.stopped == "hung":
            raise hung(what, ended.idle_seconds, "hangTimeoutSeconds").error(hint_log)
        if ended.code != 0:
            run = Exit(what, ended.code, tail, limit, ended.peak_memory, self._ctx.key_field)
            raise diagnose(run).error(hint_log)
        out_file = out_dir / name
        if not out_file.exists():
            found = sorted(p.name for p in out_dir.iterdir())
            raise ModelContractError(
                f"[BS504 fixed-paths] the command `{command}` wrote no {name} in"
                " AIP_BATCH_OUTPUT_DIR"
                + (f" (it wrote: {', '.join(found)})" if found else " (the folder is empty)"),
                hint="read the files listed in AIP_BATCH_INPUT_URIS and write, for each, a file"
                " of the same name into AIP_BATCH_OUTPUT_DIR with one JSON prediction per"
                " line; fixed paths instead of these variables are how custom containers"
                " classically fail Vertex AI batch prediction",
            )
        lines = [ln for ln in out_file.read_bytes().splitlines() if ln.strip()]
        if len(instances) > 1 and _one_document(lines, len(instances)):
            raise ModelContractError(
                f"[BS502 output-not-json-lines] the command `{command}` wrote its"
                f" {len(instances)} predictions as one JSON document in {name}",
                hint='write one JSON prediction per line (`f.write(json.dumps(p) + "\\n")` for'
                " each), not `json.dump(predictions, f)`",
            )
        if len(lines) != len(instances):
            raise ModelContractError(
                f"the command `{command}` wrote {len(lines)} predictions for {len(instances)}"
                f" instances in {name}",
                hint="write exactly one JSON prediction per input line, in order",
            )
        out = []
        for number, line in enumerate(lines, start=1):
            try:
                out.append(self._decoder.decode(line))
            except msgspec.DecodeError as exc:
                raise ModelContractError(
                    f"line {number} of the command's output {name} is not JSON: {exc}",
                    hint="write one JSON value per line",
                ) from exc
        return out

    def close(self) -> None:
        """Nothing stays running between chunks."""


def _one_document(lines: list[bytes], count: int) -> bool:
    """The whole output is one JSON array of `count` values (json.dump of a list)."""
    try:
        value = msgspec.json.decode(b"\n".join(lines))
    except msgspec.DecodeError:
        return False
    return isinstance(value, list) and len(value) == count


def _written(log: Path, out_dir: Path) -> int:
    """Bytes the command has written (its log and its outputs): a hang
    shows as no CPU and no change here."""
    total = 0
    for path in (log, *out_dir.iterdir()):
        with contextlib.suppress(OSError):
            total += path.stat().st_size
    return total
