"""The stack program: what `stacks/__main__.py` runs under `pulumi up`.

Reads the stack's configuration, builds one `BatchspecStack`, and exports
per job the revision, where it runs, its job name, state and output
directory. Problems with the configuration or the specs end the program
with `pulumi.RunError`, which Pulumi prints as a plain message (no
traceback), and nothing is changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pulumi

from batchspec.errors import BatchspecError
from batchspec.pulumi.component import BatchspecStack
from batchspec.pulumi.loading import load_jobs
from batchspec.pulumi.settings import StackSettings, settings_from


def raw_config() -> dict[str, Any]:
    """Every configuration value of the running stack (`namespace:key` -> text)."""
    from pulumi.runtime.config import CONFIG

    return dict(CONFIG.get())


def load_settings(
    project_dir: Path | str, config: Mapping[str, Any] | None = None
) -> StackSettings:
    """The running stack's settings (RunError on a bad value)."""
    try:
        return settings_from(
            raw_config() if config is None else config,
            stack=pulumi.get_stack(),
            project_dir=project_dir,
        )
    except BatchspecError as exc:
        raise pulumi.RunError(_text(exc)) from None


def build(settings: StackSettings) -> BatchspecStack:
    """Load the specs, log their warnings, create the stack's resources."""
    try:
        loaded = load_jobs(settings)
    except BatchspecError as exc:
        raise pulumi.RunError(_text(exc)) from None
    for d in loaded.warnings:
        pulumi.log.warn(
            f"{d.location}: {d.code} {d.message}" + (f" (hint: {d.hint})" if d.hint else "")
        )
    if loaded.skipped:
        pulumi.log.info("specs not in this stack: " + ", ".join(sorted(loaded.skipped)))
    return BatchspecStack(settings, loaded=loaded)


def main(project_dir: Path | str | None = None) -> BatchspecStack:
    """Run the program for the current stack and export its outputs."""
    settings = load_settings(project_dir if project_dir is not None else Path.cwd())
    stack = build(settings)
    pulumi.export("jobs", {name: job.outputs for name, job in stack.jobs.items()})
    pulumi.export("buckets", {name: bucket.url for name, bucket in stack.buckets.items()})
    pulumi.export(
        "serviceAccounts",
        {key: identity.email for key, identity in stack.identities.items()},
    )
    pulumi.export("statePath", str(settings.state_path))
    return stack


def _text(exc: BatchspecError) -> str:
    return exc.message + (f"\nhint: {exc.hint}" if exc.hint else "")
