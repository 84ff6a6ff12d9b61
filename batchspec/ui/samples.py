"""A sample of a job's outputs, read through `batchspec.results`, for plots
and for the first errors.

Outputs can be gigabytes; a page needs the shape of the predictions, not
every line. The sample takes an equal share of at most `limit` predictions
from the start of every result file, so every shard is represented and the
cost is bounded whatever the job's size. Errors are counted per file (up to
the same bound) and the first few are kept with the input they were about.

What a prediction means is read from its shape: a string, bool or integer is
a class; a float is a score; an object gives its class from `label`,
`class`, `displayNames` (with `confidences`, as Vertex AI classification
models answer) and its score from `score`, `confidence`, `probability`; a
list of numbers is a probability vector (its argmax is the class).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from batchspec.errors import BatchspecError
from batchspec.state.redact import redact

SAMPLE_LIMIT = 5000
ERROR_LIMIT = 10
TEXT_LIMIT = 400
_LABEL_KEYS = ("label", "class", "predicted_label", "category", "class_name", "displayName")
_SCORE_KEYS = ("score", "confidence", "probability", "prob", "value")


@dataclass(frozen=True)
class OutputFile:
    """One result or error file: where it is, what it holds, how big it is."""

    path: str
    kind: str
    size: int | None

    @property
    def name(self) -> str:
        """The file name without its folder."""
        return self.path.rstrip("/").rsplit("/", 1)[-1]


@dataclass(frozen=True)
class ErrorSample:
    """One failed instance: the engine's or service's message and the input."""

    message: str
    code: str | None
    input: str | None
    file: str


@dataclass
class ResultSample:
    """What a bounded read of a job's outputs found."""

    files: list[OutputFile] = field(default_factory=list)
    read: int = 0
    sampled: bool = False
    classes: Counter[str] = field(default_factory=Counter)
    scores: list[float] = field(default_factory=list)
    errors: list[ErrorSample] = field(default_factory=list)
    errors_per_file: dict[str, int] = field(default_factory=dict)
    problem: str | None = None


def is_local(location: str) -> bool:
    """True for paths on this machine (plain or `file://`); the pages read no
    remote storage on their own."""
    return "://" not in location or location.startswith("file://")


def classify(prediction: Any) -> tuple[str | None, float | None]:
    """(class, score) of one prediction, each None when its shape has none."""
    if isinstance(prediction, bool):
        return str(prediction).lower(), None
    if isinstance(prediction, str):
        return prediction, None
    if isinstance(prediction, int):
        return str(prediction), None
    if isinstance(prediction, float):
        return None, prediction
    if isinstance(prediction, list):
        numbers = [v for v in prediction if isinstance(v, int | float) and not isinstance(v, bool)]
        if len(numbers) == len(prediction) > 1:
            best = max(range(len(numbers)), key=numbers.__getitem__)
            return str(best), float(numbers[best])
        return (None, float(numbers[0])) if len(numbers) == 1 == len(prediction) else (None, None)
    if isinstance(prediction, dict):
        return _from_object(prediction)
    return None, None


def _from_object(obj: dict[str, Any]) -> tuple[str | None, float | None]:
    names, confidences = obj.get("displayNames"), obj.get("confidences")
    if isinstance(names, list) and isinstance(confidences, list) and names and confidences:
        best = max(range(min(len(names), len(confidences))), key=lambda i: confidences[i])
        return str(names[best]), float(confidences[best])
    label = next((obj[k] for k in _LABEL_KEYS if isinstance(obj.get(k), str | int)), None)
    score = next(
        (
            float(obj[k])
            for k in _SCORE_KEYS
            if isinstance(obj.get(k), int | float) and not isinstance(obj.get(k), bool)
        ),
        None,
    )
    if label is None and score is None and len(obj) == 1:
        return classify(next(iter(obj.values())))
    return (None if label is None else str(label)), score


def _short(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(redact(value), ensure_ascii=False)
    return text if len(text) <= TEXT_LIMIT else text[:TEXT_LIMIT] + "…"


def list_outputs(locations: Iterable[str]) -> list[OutputFile]:
    """The result and error files at these local locations (folders or files)."""
    from batchspec.results import file_kind, output_files

    found: list[OutputFile] = []
    for location in locations:
        if not is_local(location):
            continue
        for path in output_files(location):
            size = None
            with contextlib.suppress(OSError):
                size = os.stat(path.removeprefix("file://")).st_size
            kind = file_kind(path)
            found.append(OutputFile(path, kind.value if kind else "other", size))
    return found


def sample_results(files: list[OutputFile], *, limit: int = SAMPLE_LIMIT) -> ResultSample:
    """Read a bounded, spread sample of `files` (see the module docstring)."""
    from batchspec.results import read_file

    sample = ResultSample(files=list(files))
    predictions = [f for f in files if f.kind == "predictions"]
    share = max(1, -(-limit // max(1, len(predictions))))
    try:
        for f in files:
            taken = 0
            for record in read_file(f.path):
                if taken >= share:
                    sample.sampled = True
                    break
                taken += 1
                if record.error is not None:
                    sample.errors_per_file[f.name] = (
                        sample.errors_per_file.get(f.name, 0) + record.count
                    )
                    if len(sample.errors) < ERROR_LIMIT:
                        sample.errors.append(_error(record, f.name))
                    continue
                sample.read += 1
                label, score = classify(record.prediction)
                if label is not None:
                    sample.classes[label] += 1
                if score is not None:
                    sample.scores.append(score)
    except (BatchspecError, OSError, UnicodeDecodeError) as exc:
        sample.problem = getattr(exc, "message", None) or str(exc)
    return sample


def _error(record: Any, file: str) -> ErrorSample:
    code = record.error.code
    return ErrorSample(
        message=str(record.error.message),
        code=None if code is None else str(code),
        input=_short(record.instance if record.instance is not None else record.key),
        file=file,
    )
