"""A Model document's serving container, run on this machine under Vertex AI's
HTTP contract (`model: {ref: NAME}` for the local engine and Ray).

With a container engine (docker or podman on PATH whose daemon answers
`info`), the image runs as Vertex AI runs it: the AIP_* variables
(AIP_HTTP_PORT is the container's port, published on 127.0.0.1 only),
`command`/`args` replacing ENTRYPOINT/CMD, the Model's `env`, a memory
limit from the spec (`--memory`: the kernel kills the container at the
limit, as on a machine type that is too small), its output captured in the
job's log folder. Where no engine answers, batchspec says so (BS500) with
the engine's own words, and runs the Model's `local.command` instead, as a
host process under the same contract; without one the job fails with that
reason. Either way the `http` runner does the talking, so every contract
failure is diagnosed the same way.

When the spec gives no routes, `/health` and `/predict` are used locally
(Vertex AI then sets routes of its own and passes them in the same
variables).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass

from batchspec.engine.errors import ModelLoadError
from batchspec.engine.runners.base import RunnerContext
from batchspec.engine.runners.http import HttpModel, free_port
from batchspec.model.runners import ContainerRunner, HttpRunner

ENGINES = ("docker", "podman")
INFO_TIMEOUT = 10.0
DEFAULT_HEALTH_ROUTE = "/health"
DEFAULT_PREDICT_ROUTE = "/predict"


@dataclass(frozen=True)
class EngineCheck:
    """Which engine runs images here, or why none does."""

    engine: str | None
    reason: str


def find_engine(choice: str = "auto", *, timeout: float = INFO_TIMEOUT) -> EngineCheck:
    """The first of docker and podman (or only `choice`) on PATH whose daemon
    answers `info`; otherwise why not, in the engines' own words."""
    names = ENGINES if choice == "auto" else (choice,)
    reasons = []
    for name in names:
        path = shutil.which(name)
        if path is None:
            reasons.append(f"{name} is not on PATH")
            continue
        try:
            done = subprocess.run(
                [path, "info", "--format", "{{.ServerVersion}}"],
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            reasons.append(f"{name} info failed: {exc}")
            continue
        if done.returncode == 0:
            return EngineCheck(path, f"{name} {done.stdout.strip()}")
        said = " ".join((done.stderr or done.stdout).split())[:300]
        reasons.append(f"{name} is on PATH, but its daemon does not answer: {said}")
    return EngineCheck(None, "; ".join(reasons))


def no_engine_message(cfg: ContainerRunner, reason: str) -> str:
    """BS500, said plainly."""
    return f"[BS500 no-container-engine] image {cfg.image} cannot run on this machine: {reason}"


def image_command(
    engine: str, cfg: ContainerRunner, ctx: RunnerContext, host_port: int, name: str
) -> list[str]:
    """`docker run` (or podman) of the image under the Vertex AI contract."""
    env = {
        **cfg.env,
        "AIP_HTTP_PORT": str(cfg.port),
        "AIP_HEALTH_ROUTE": cfg.health_route or DEFAULT_HEALTH_ROUTE,
        "AIP_PREDICT_ROUTE": cfg.predict_route or DEFAULT_PREDICT_ROUTE,
        "AIP_STORAGE_URI": cfg.storage_uri or "",
        "AIP_MODEL_NAME": ctx.job_name,
        "AIP_MODE": "PREDICTION",
    }
    argv = [engine, "run", "--rm", "--name", name, "-p", f"127.0.0.1:{host_port}:{cfg.port}"]
    if cfg.memory:
        argv += ["--memory", _engine_memory(cfg.memory)]
    for key, value in env.items():
        argv += ["-e", f"{key}={value}"]
    command = list(cfg.command or [])
    if command:
        argv += ["--entrypoint", command[0]]
    argv.append(cfg.image)
    return argv + command[1:] + list(cfg.args or [])


def _engine_memory(quantity: str) -> str:
    """`2Gi` -> `2147483648b`: bytes, which docker and podman both take."""
    from batchspec.model.base import memory_bytes

    return f"{memory_bytes(quantity)}b"


def launch(cfg: ContainerRunner, ctx: RunnerContext) -> HttpModel:
    """Start the image where an engine answers, else the host command (saying
    so on stderr), else fail with BS500."""
    check = find_engine(cfg.engine) if cfg.engine != "host" else EngineCheck(None, "engine: host")
    common = {
        "runner": "http",
        "healthRoute": cfg.health_route or DEFAULT_HEALTH_ROUTE,
        "predictRoute": cfg.predict_route or DEFAULT_PREDICT_ROUTE,
        "storageUri": cfg.storage_uri,
        "startupTimeoutSeconds": cfg.startup_timeout_seconds,
        "requestTimeoutSeconds": cfg.request_timeout_seconds,
        "memory": cfg.memory,
    }
    if check.engine is not None:
        host_port = free_port()
        name = f"batchspec-{uuid.uuid4().hex[:12]}"
        argv = image_command(check.engine, cfg, ctx, host_port, name)
        http = HttpRunner.model_validate({**common, "command": argv, "port": host_port})
        return HttpModel.start(http, ctx, container=(check.engine, name))
    if cfg.host_command is None:
        raise ModelLoadError(
            no_engine_message(cfg, check.reason),
            hint="start docker or podman (a daemon `docker info` reaches), or give the Model"
            " a `local.command` that serves the same contract as a host process",
        )
    if cfg.engine != "host":
        sys.stderr.write(
            f"batchspec: {no_engine_message(cfg, check.reason)}; running its local.command"
            f" `{' '.join(cfg.host_command)}` under the same contract instead\n"
        )
    where = ctx.spec_dir / cfg.host_dir if cfg.host_dir else ctx.spec_dir
    host_ctx = RunnerContext(**{**ctx.__dict__, "spec_dir": where})
    http = HttpRunner.model_validate({**common, "command": cfg.host_command, "env": cfg.env})
    return HttpModel.start(http, host_ctx)


__all__ = ["EngineCheck", "find_engine", "image_command", "launch", "no_engine_message"]
