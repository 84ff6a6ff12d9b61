"""A model server following Vertex AI's custom-container HTTP contract.

batchspec starts the container's command as a local process with the
variables Vertex AI sets (AIP_HTTP_PORT, AIP_HEALTH_ROUTE, AIP_PREDICT_ROUTE,
AIP_STORAGE_URI, AIP_MODEL_NAME, AIP_MODE=PREDICTION), waits until the health
route answers 200, then POSTs `{"instances": [...]}` (plus `"parameters"`
when the spec has modelParameters) in batches of batchSize and expects
`{"predictions": [...]}` with one prediction per instance, in order.

Everything that makes such a container fail on Vertex AI fails
here first, with a message that says which part of the contract broke. The
server's failures fail the job: it exits or never answers the health route
(often: it ignores AIP_HTTP_PORT), it crashes or hangs in the middle of a
job. One request's failures fail that request's instances, counted against
the job's error budget like any failed instance: a non-200 answer, an answer
that breaks the contract (BS510: not JSON, no `predictions` list, a wrong
number of them), a dropped connection. They are retried instance by
instance, so one bad instance costs one error line; a request past
`requestTimeoutSeconds` fails its batch as a whole (DEADLINE_EXCEEDED) while
the server still answers its health route.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import msgspec

from batchspec.engine.errors import InstanceError, ModelContractError
from batchspec.engine.runners import process
from batchspec.engine.runners.base import RunnerContext
from batchspec.engine.runners.causes import Cause, Exit, diagnose
from batchspec.model.base import memory_bytes
from batchspec.model.spec import HttpRunner
from batchspec.rpc import HTTP_STATUS

# A model server's 409 is a conflict inside the server, not a resource that
# already exists (what it means from a Google API).
_HTTP_TO_STATUS = {**HTTP_STATUS, 409: "ABORTED"}


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def contract_env(cfg: HttpRunner, ctx: RunnerContext, port: int) -> dict[str, str]:
    """The AIP_* variables Vertex AI gives a serving container."""
    return {
        "AIP_HTTP_PORT": str(port),
        "AIP_HEALTH_ROUTE": cfg.health_route,
        "AIP_PREDICT_ROUTE": cfg.predict_route,
        "AIP_STORAGE_URI": cfg.storage_uri or "",
        "AIP_MODEL_NAME": ctx.job_name,
        "AIP_MODE": "PREDICTION",
    }


class HttpModel:
    """A running model server and a keep-alive connection to it."""

    isolate_failures = True

    def __init__(
        self,
        *,
        cfg: HttpRunner,
        ctx: RunnerContext,
        proc: subprocess.Popen[bytes],
        port: int,
        log_path: Path,
        log: IO[bytes],
    ):
        self._cfg = cfg
        self._ctx = ctx
        self._proc = proc
        self._port = port
        self._log_path = log_path
        self._log = log
        self._conn: http.client.HTTPConnection | None = None
        self._encoder = msgspec.json.Encoder()
        self._decoder = msgspec.json.Decoder()
        self._command = " ".join(cfg.command)
        self.in_image = False  # a container image (set by the container runner)
        self.container: tuple[str, str] | None = None  # (engine, container name)
        self.guard: process.MemoryGuard | None = None

    @classmethod
    def start(
        cls, cfg: HttpRunner, ctx: RunnerContext, *, container: tuple[str, str] | None = None
    ) -> HttpModel:
        """Start the server and wait until its health route answers 200.
        `container`: (engine, name) when `cfg.command` runs an image, so
        `close` removes the container and errors speak of the image."""
        port = cfg.port or free_port()
        env = {**os.environ, **contract_env(cfg, ctx, port), **ctx.env, **cfg.env}
        log_dir = ctx.log_dir or Path(tempfile.mkdtemp(prefix="batchspec-server-"))
        log_dir.mkdir(parents=True, exist_ok=True)
        log_path = log_dir / f"model-server-{ctx.worker}.log"
        log = open(log_path, "ab")  # noqa: SIM115 - lives as long as the server
        proc = process.spawn(cfg.command, env=env, cwd=ctx.spec_dir, log=log)
        model = cls(cfg=cfg, ctx=ctx, proc=proc, port=port, log_path=log_path, log=log)
        model.container = container
        model.in_image = container is not None
        if cfg.memory and container is None:  # an engine enforces an image's limit itself
            model.guard = process.MemoryGuard(proc, memory_bytes(cfg.memory))
        try:
            model._wait_healthy()
        except BaseException:
            model.close()
            raise
        return model

    # --- lifecycle -----------------------------------------------------------

    def _tail_hint(self, advice: str) -> str:
        return f"{advice}; {self._log_note()}"

    def _log_note(self) -> str:
        out = process.tail(self._log_path)
        text = f"the server's log is {self._log_path}"
        return text + (f"; it ends with:\n{out}" if out else " (it wrote nothing)")

    def _wait_healthy(self) -> None:
        cfg = self._cfg
        url = f"http://127.0.0.1:{self._port}{cfg.health_route}"
        deadline = time.monotonic() + cfg.startup_timeout_seconds
        last = "no answer"
        delay = 0.02
        while True:
            code = self._proc.poll()
            if code is not None:
                raise self._exited_at_start(code, url)
            answer = self._health(timeout=2.0)
            if answer is None:
                return
            last = answer
            if time.monotonic() >= deadline:
                raise ModelContractError(
                    f"[BS508 never-healthy] the model server never became healthy: GET {url}"
                    " answered"
                    f" {last!r} for {cfg.startup_timeout_seconds:g}s",
                    hint=self._tail_hint(
                        f"the server must listen on AIP_HTTP_PORT ({self._port}), not a fixed"
                        f" port, and answer AIP_HEALTH_ROUTE ({cfg.health_route}) with 200;"
                        " raise `startupTimeoutSeconds` if it loads slowly"
                    ),
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.25)

    def _health(self, *, timeout: float) -> str | None:
        """None when the health route answers 200; otherwise what it said."""
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self._port, timeout=timeout)
            try:
                conn.request("GET", self._cfg.health_route)
                resp = conn.getresponse()
                resp.read()
            finally:
                conn.close()
        except (OSError, http.client.HTTPException) as exc:
            return "connection refused" if isinstance(exc, ConnectionRefusedError) else str(exc)
        return None if resp.status == 200 else f"HTTP {resp.status}"

    def _exit(self, code: int) -> Exit:
        """How the server ended, with what is known of its memory."""
        limit = memory_bytes(self._cfg.memory) if self._cfg.memory else None
        return Exit(
            f"the model server `{self._command}`",
            code,
            process.tail(self._log_path),
            memory_limit=limit,
            peak_memory=self.guard.peak if self.guard is not None else None,
            key_field=self._ctx.key_field,
            in_image=self.in_image,
        )

    def _exited_at_start(self, code: int, url: str) -> ModelContractError:
        """BS509, or the cause when the log names it (a missing module...)."""
        run = self._exit(code)
        cause = diagnose(run)
        if cause.code == "BS511":
            cause = Cause(
                "BS509",
                "exited-at-start",
                f"{run.what} {process.exit_text(code)} before it became healthy (GET {url})",
                "run it yourself with AIP_HTTP_PORT set and see why it stops",
            )
        return cause.error(self._log_note())

    def close(self) -> None:
        """Stop the server."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self.guard is not None:
            self.guard.close()
        process.stop(self._proc)
        if self.container is not None:  # the client's death does not stop the container
            engine, name = self.container
            subprocess.run([engine, "rm", "-f", name], capture_output=True, timeout=60, check=False)
        self._log.close()

    # --- predictions -----------------------------------------------------------

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(
                "127.0.0.1", self._port, timeout=self._cfg.request_timeout_seconds
            )
        return self._conn

    def _post(self, body: bytes, n: int) -> tuple[int, bytes]:
        route = self._cfg.predict_route
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request("POST", route, body, {"Content-Type": "application/json"})
                resp = conn.getresponse()
                return resp.status, resp.read()
            except TimeoutError as exc:
                raise self._timed_out(route, n) from exc
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                self._conn = None
                code = self._wait_exit(0.5)
                if code is not None:
                    cause = diagnose(self._exit(code))
                    if cause.code != "BS511":  # killed for memory, a missing library...
                        raise cause.error(self._log_note()) from exc
                    raise ModelContractError(
                        f"the model server `{self._command}` {process.exit_text(code)} while"
                        f" answering POST {route} ({n} instances)",
                        hint=self._tail_hint("the server crashed"),
                    ) from exc
                if attempt == 2:  # the server lives: this request's failure
                    raise InstanceError(
                        f"the model server dropped the connection on POST {route} twice: {exc}",
                        status="UNAVAILABLE",
                    ) from exc
        raise AssertionError("unreachable")

    def _timed_out(self, route: str, n: int) -> Exception:
        """A request past `requestTimeoutSeconds`: that request's failure
        (DEADLINE_EXCEEDED, not retried instance by instance, which would
        multiply the wait) while the server still answers its health route;
        the job's when it does not (the server hangs)."""
        if self._conn is not None:  # its answer may still come: never read it as the next one
            self._conn.close()
            self._conn = None
        waited = f"{self._cfg.request_timeout_seconds:g}s"
        health = self._health(timeout=min(5.0, self._cfg.request_timeout_seconds))
        if health is None:
            return InstanceError(
                f"the model server did not answer POST {route} ({n} instances) within {waited}",
                status="DEADLINE_EXCEEDED",
                isolate=False,
            )
        return ModelContractError(
            f"the model server did not answer POST {route} ({n} instances) within {waited},"
            f" and its health route answers {health!r}: it hangs",
            hint=self._tail_hint("raise `requestTimeoutSeconds` or lower `batchSize`"),
        )

    def _wait_exit(self, seconds: float) -> int | None:
        try:
            return self._proc.wait(seconds)
        except subprocess.TimeoutExpired:
            return None

    def predict(self, instances: list[Any]) -> Sequence[Any]:
        """POST one batch; pair the predictions with the instances."""
        payload: dict[str, Any] = {"instances": instances}
        if self._ctx.parameters:
            payload["parameters"] = self._ctx.parameters
        status, data = self._post(self._encoder.encode(payload), len(instances))
        route = self._cfg.predict_route
        if status != 200:
            text = data.decode("utf-8", errors="replace").strip()[:500]
            raise InstanceError(
                f"model server answered HTTP {status}" + (f": {text}" if text else ""),
                status=_HTTP_TO_STATUS.get(status, "UNKNOWN"),
                code=status,
            )
        try:
            answer = self._decoder.decode(data)
        except msgspec.DecodeError as exc:
            text = data[:80].decode("utf-8", errors="replace")
            raise bad_answer(
                f"the model server answered POST {route} with a body that is not JSON: {exc}"
                f" (it begins {text!r})"
            ) from exc
        predictions = answer.get("predictions") if isinstance(answer, dict) else None
        if not isinstance(predictions, list):
            raise bad_answer(f"the model server's answer to POST {route} has no `predictions` list")
        if len(predictions) != len(instances):
            raise bad_answer(
                f"the model server returned {len(predictions)} predictions for"
                f" {len(instances)} instances (POST {route})"
            )
        return predictions


def bad_answer(what: str) -> InstanceError:
    """BS510: one answer broke the prediction contract. It fails that request's
    instances (retried one by one, so an instance the server cannot answer
    fails alone) and counts against the job's error budget, as a failed
    request does on Vertex AI; the job's other instances go on."""
    return InstanceError(
        f'[BS510 bad-answer] {what}; answer {{"predictions": [...]}}, one per instance, in order',
        status="INTERNAL",
    )
