"""Why a model program failed, by cause, from its exit and the tail of its log.

Custom containers fail batch prediction in a few recurring ways, and the
service reports most of them as an exit code or a generic error. The local
engine has the program's own output, so it names the cause, with a stable
diagnostic code (docs/diagnostics.md) and what to change:

* BS501: the program read an input file as one JSON document
  (`json.load`), but the file holds one instance per line: Python's
  `JSONDecodeError: Extra data` at line 2;
* BS503: the program looked up the key field, which Vertex AI removes from
  each instance before the model sees it (`keyField` is only for joining
  results back);
* BS505: a module (`ModuleNotFoundError`) or a shared library (`cannot open
  shared object file`) is missing: install it in the image;
* BS506: killed for memory: SIGKILL or exit 137 with the program near its
  memory limit, or a Python `MemoryError`;
* BS511: none of these: the exit code and the log's tail.

Hangs (BS507), servers that never get healthy (BS508) and exits at start
(BS509) are found by the runners while they wait, not from the log.
"""

from __future__ import annotations

import re
import signal
from dataclasses import dataclass

from batchspec.engine.errors import ModelContractError
from batchspec.engine.runners.process import exit_text

NEAR_LIMIT = 0.9  # a SIGKILL at this share of the memory limit is the memory killer's

_MODULE = re.compile(r"ModuleNotFoundError: No module named '([^']+)'")
_SHARED = re.compile(r"(\S+\.so(?:\.[\w.]+)?): cannot open shared object file")
_EXTRA_DATA = re.compile(r"JSONDecodeError: Extra data: line (\d+) column (\d+)")
_KEY_ERROR = re.compile(r"KeyError: '([^']+)'")


@dataclass(frozen=True)
class Cause:
    """A failure's cause: its diagnostic code, message and what to do."""

    code: str
    name: str
    message: str
    hint: str

    def error(self, log_note: str = "") -> ModelContractError:
        """The engine error that fails the job, the code leading its message."""
        hint = self.hint + (f"; {log_note}" if log_note else "")
        return ModelContractError(f"[{self.code} {self.name}] {self.message}", hint=hint)


@dataclass(frozen=True)
class Exit:
    """How a model program ended, and what is known about its run."""

    what: str  # "the command `python score.py`", "the container of image X"
    code: int | None  # exit status; negative: killed by that signal
    log_tail: str = ""
    memory_limit: int | None = None  # bytes
    peak_memory: int | None = None  # bytes, the most the program held
    key_field: str | None = None
    in_image: bool = False  # a container image, not a host process


def killed_by_kill(code: int | None) -> bool:
    """SIGKILL, as a signal or as a container's exit status 137 (128 + 9)."""
    return code in (-signal.SIGKILL, 128 + signal.SIGKILL)


def diagnose(run: Exit) -> Cause:
    """The cause of a failed run (BS511 when none is recognised)."""
    for check in (_memory, _missing, _not_json_lines, _key_removed):
        found = check(run)
        if found is not None:
            return found
    status = _status(run.code)
    return Cause(
        "BS511",
        "program-failed",
        f"{run.what} {status}",
        "its log's last lines are below; run it by hand under the same variables to see more",
    )


def hung(what: str, idle: float, setting: str) -> Cause:
    """BS507: no CPU and nothing written for the hang timeout."""
    return Cause(
        "BS507",
        "hung",
        f"{what} used no CPU and wrote nothing for {idle:.0f}s, and was stopped",
        "a program waiting for input that never comes (reading stdin, a lock, a network"
        f" call without a timeout) hangs like this; raise `{setting}` if it is only slow",
    )


def _status(code: int | None) -> str:
    return "failed" if code is None else exit_text(code)


def _mib(n: int) -> str:
    return f"{n / 2**20:.0f} MiB"


def _memory(run: Exit) -> Cause | None:
    near = (
        run.memory_limit is not None
        and run.peak_memory is not None
        and run.peak_memory >= NEAR_LIMIT * run.memory_limit
    )
    # An engine enforces an image's limit and reports no peak: exit 137 under
    # a limit is the kernel's memory killer (`docker inspect` says OOMKilled).
    engine_killed = run.in_image and run.memory_limit is not None and run.peak_memory is None
    if killed_by_kill(run.code) and near:
        assert run.memory_limit is not None and run.peak_memory is not None
        used = f"it held {_mib(run.peak_memory)} of its {_mib(run.memory_limit)} limit"
    elif killed_by_kill(run.code) and engine_killed:
        assert run.memory_limit is not None
        used = f"SIGKILL (exit 137) under its {_mib(run.memory_limit)} limit"
    elif "MemoryError" in run.log_tail:
        used = "Python raised MemoryError"
    else:
        return None
    return Cause(
        "BS506",
        "out-of-memory",
        f"{run.what} was killed for memory: {used}",
        "give it more memory (the runner's `memory`; on Vertex AI a machine type with more"
        " memory, `resources.machineType`), or send smaller batches (`resources.batchSize`)",
    )


# BS505's two kinds: what the log says is missing, and how to install it `where`.
_MISSING = (
    (
        _MODULE,
        "the Python module {name!r}",
        "install it {where} (`pip install` the package that provides {name!r}) and pin it"
        " in the requirements the image is built from",
    ),
    (
        _SHARED,
        "the shared library {name}",
        "install the system package that provides {name} {where} (e.g. `apt-get install` in"
        " the Dockerfile); slim base images leave most libraries out",
    ),
)


def _missing(run: Exit) -> Cause | None:
    where = "in the image (its Dockerfile)" if run.in_image else "where the program runs"
    for pattern, needs, hint in _MISSING:
        found = pattern.search(run.log_tail)
        if found:
            name = found.group(1)
            return Cause(
                "BS505",
                "missing-dependency",
                f"{run.what} needs {needs.format(name=name)}, which is not installed",
                hint.format(name=name, where=where),
            )
    return None


def _not_json_lines(run: Exit) -> Cause | None:
    found = _EXTRA_DATA.search(run.log_tail)
    if not found:
        return None
    return Cause(
        "BS501",
        "input-not-json-lines",
        f"{run.what} read an input file as one JSON document (JSONDecodeError: Extra data"
        f" at line {found.group(1)}), but each file holds one JSON instance per line",
        "read the file line by line: `for line in f: instance = json.loads(line)` (JSON"
        ' Lines: `{"x": 1}` newline `{"x": 2}`), not `json.load(f)`',
    )


def _key_removed(run: Exit) -> Cause | None:
    found = _KEY_ERROR.search(run.log_tail)
    if not found or run.key_field is None or found.group(1) != run.key_field:
        return None
    return Cause(
        "BS503",
        "key-field-removed",
        f"{run.what} looked up {run.key_field!r}, the job's key field, which is removed from"
        " every instance before the model sees it",
        "the key only joins each prediction back to its input (it is written beside the"
        " prediction); do not read it in the model, or list it in `includedFields` as a"
        " feature under another name",
    )


__all__ = ["NEAR_LIMIT", "Cause", "Exit", "diagnose", "hung", "killed_by_kill"]
