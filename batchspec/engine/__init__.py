"""The local batch prediction engine: the embedded default backend's machinery.

    reader -> shaper -> batcher -> model runner -> writer, per shard, in
    worker processes supervised by one detached process per job.

Modules, bottom up:

* `paths`      relative paths, `file://`/`gs://` via fsspec, wildcard expansion
* `tfrecord`, `example`  TFRecord framing (crc32c checked) and tf.train.Example
* `formats`    readers per input format, yielding instances or per-line problems
* `instances`  keyField / included / excluded fields / instanceType shaping
* `plan`       deterministic shard planning (line-split large files)
* `runners`    python, sklearn, onnx, http (custom container), command
* `output`     staging + atomic publish of `prediction.*-NNNNN-of-NNNNN`
* `shard`      the inner loop for one shard
* `budget`     the error budget -> SUCCEEDED / PARTIALLY_SUCCEEDED / FAILED
* `jobdir`     the durable job folder (status, plan, shard records, lock)
* `worker`, `supervisor`  processes; `python -m batchspec.engine.supervisor DIR`

`batchspec.backends.local.LocalBackend` puts the job-as-a-resource face
(submit/get/list/cancel/outputs) on top of this.
"""

from __future__ import annotations

from batchspec.engine.errors import (
    InputError,
    InstanceError,
    ModelContractError,
    ModelLoadError,
    OutputError,
)

__all__ = ["InputError", "InstanceError", "ModelContractError", "ModelLoadError", "OutputError"]
