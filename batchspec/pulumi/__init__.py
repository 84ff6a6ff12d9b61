"""batchspec on Pulumi: the stack component and the BatchPredictionJob resource.

`stacks/` holds the Pulumi project; its program is one line,
`batchspec.pulumi.program.main()`. The parts:

* `settings`: the stack configuration (`batchspec:*`, `gcp:project`, ...);
* `loading`, `layout`: which specs, and what each needs (plain data);
* `component`: `BatchspecStack`, `JobIdentity`, `BatchJob` (pulumi-gcp);
* `provider`: the `BatchPredictionJob` dynamic resource;
* `runs`: create / read / delete of a run through the controller's
  exactly-once path (shared state file and writer lease);
* `policies`, `policy_pack`: the checks of `stacks/policy`.

Attributes are imported on first use, so the plain-data modules (and the
policy functions) work without importing Pulumi.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "BatchspecStack": "batchspec.pulumi.component",
    "BatchJob": "batchspec.pulumi.component",
    "JobIdentity": "batchspec.pulumi.component",
    "BatchPredictionJob": "batchspec.pulumi.provider",
    "BatchPredictionJobProvider": "batchspec.pulumi.provider",
    "StackSettings": "batchspec.pulumi.settings",
    "settings_from": "batchspec.pulumi.settings",
    "main": "batchspec.pulumi.program",
}

__all__ = [
    "BatchJob",
    "BatchPredictionJob",
    "BatchPredictionJobProvider",
    "BatchspecStack",
    "JobIdentity",
    "StackSettings",
    "main",
    "settings_from",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'batchspec.pulumi' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
