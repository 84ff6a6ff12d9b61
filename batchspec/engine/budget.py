"""The error budget: how many failed instances a job may have and still count.

`policy.maxErrorFraction` (default 1.0: any number) and
`policy.maxFailedInstances` (default: no limit). Zero failures: SUCCEEDED.
Failures within the budget: PARTIALLY_SUCCEEDED. Beyond it: FAILED, and the
engine stops as soon as the budget is certainly exceeded rather than
computing predictions nobody will use.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from batchspec.model.enums import JobState
from batchspec.model.spec import Policy


@dataclass(frozen=True)
class Budget:
    """The limits of one job."""

    max_fraction: float = 1.0
    max_failed: int | None = None

    @classmethod
    def from_policy(cls, policy: Policy) -> Budget:
        """Read the limits from the spec's policy."""
        return cls(policy.max_error_fraction, policy.max_failed_instances)

    def allowed(self, total: int | None) -> int | None:
        """Failures allowed over `total` instances (None: unlimited/unknown)."""
        limits = []
        if self.max_failed is not None:
            limits.append(self.max_failed)
        if total is not None and self.max_fraction < 1.0:
            limits.append(math.floor(self.max_fraction * total))
        return min(limits) if limits else None

    def exceeded_early(self, failed: int, total: int | None) -> bool:
        """True when `failed` already breaks the budget, whatever comes next."""
        allowed = self.allowed(total)
        return allowed is not None and failed > allowed

    def final_state(self, completed: int, failed: int) -> JobState:
        """The end state of a job that processed everything."""
        if failed == 0:
            return JobState.SUCCEEDED
        allowed = self.allowed(completed + failed)
        if allowed is not None and failed > allowed:
            return JobState.FAILED
        return JobState.PARTIALLY_SUCCEEDED

    def describe(self, failed: int, total: int | None) -> str:
        """Why the budget is exceeded, in words."""
        parts = []
        if self.max_failed is not None:
            parts.append(f"maxFailedInstances {self.max_failed}")
        if total is not None and self.max_fraction < 1.0:
            parts.append(
                f"maxErrorFraction {self.max_fraction:g} of {total} instances"
                f" ({math.floor(self.max_fraction * total)})"
            )
        return f"{failed} instances failed, more than {' and '.join(parts)} allow"
