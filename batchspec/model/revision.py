"""What compiled jobs and models and their recorded rows have in common: a
revision fingerprint, shown everywhere by its first 12 hex digits.

A plain base class, not a dataclass: each subclass declares `fingerprint`
as its own field, where its other fields put it; this only adds how it is
shown, so a table, a log line and a job folder name agree."""

from __future__ import annotations


class Revisioned:
    """Something that carries a revision fingerprint (hex digest of its spec)."""

    fingerprint: str

    @property
    def short_fingerprint(self) -> str:
        """The first 12 hex digits: enough to tell revisions apart in a table."""
        return self.fingerprint[:12]
