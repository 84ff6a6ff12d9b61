"""Damage found while reading a job's outputs, with counts.

Results are never silently wrong: a line that cannot be read, a shard that
is missing, emptied, truncated, padded with duplicates or replaced by
something that is not a file is recorded here (which file, what, how many
lines) while the readable records are still returned. `batchspec results`
prints every record it could read, then one line per damaged file, and
exits 1; a library caller that passes no `OutputCheck` gets
`DamagedOutputError` after the last record.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field

from batchspec.errors import BatchspecError
from batchspec.results.manifest import ManifestEntry

_SHOWN_LINES = 5


@dataclass(frozen=True)
class Damage:
    """One problem with one output file; `lines` is how many lines or
    records it affects (0 when that cannot be known)."""

    file: str
    problem: str
    lines: int = 0

    def __str__(self) -> str:
        return f"{self.file}: {self.problem}"


@dataclass
class OutputCheck:
    """Everything found wrong while reading outputs (empty when all is well)."""

    damage: list[Damage] = field(default_factory=list)
    files: int = 0
    records: int = 0

    @property
    def ok(self) -> bool:
        """True when nothing was found wrong."""
        return not self.damage

    def add(self, file: str, problem: str, lines: int = 0) -> None:
        """Record one problem."""
        self.damage.append(Damage(file, problem, lines))

    @property
    def lines_affected(self) -> int:
        """Lines or records affected, over every damaged file."""
        return sum(d.lines for d in self.damage)

    def summary(self) -> str:
        """One line for the end of a report."""
        files = len({d.file for d in self.damage})
        return (
            f"{files} damaged output file(s), {self.lines_affected} line(s) affected;"
            f" {self.records} record(s) could be read"
        )


class DamagedOutputError(BatchspecError):
    """Outputs were damaged (raised after the readable records were returned)."""

    def __init__(self, check: OutputCheck) -> None:
        first = "; ".join(str(d) for d in check.damage[:3])
        more = f" (and {len(check.damage) - 3} more)" if len(check.damage) > 3 else ""
        super().__init__(
            f"{check.summary()}: {first}{more}",
            hint="restore the files from the job (run it again), or read what is left"
            " with an OutputCheck",
        )
        self.check = check


@dataclass
class FileTally:
    """What one file held, counted while it was read. Digest and duplicate
    counting cost a little per line, so they run only when there is a
    manifest entry to compare with (`against`)."""

    against: ManifestEntry | None = None
    size: int = 0
    records: int = 0
    bad: dict[str, list[int]] = field(default_factory=dict)
    sha256: hashlib._Hash | None = None
    _seen: Counter[int] | None = None

    def __post_init__(self) -> None:
        if self.against is not None:
            self._seen = Counter()
            if self.against.sha256:
                self.sha256 = hashlib.sha256()

    def raw(self, data: bytes) -> None:
        """Account for bytes as read (a whole chunk at a time)."""
        if self.sha256 is not None:
            self.sha256.update(data)
        self.size += len(data)

    def record(self, line: str) -> None:
        """One readable record (its line, to count exact duplicates)."""
        self.records += 1
        if self._seen is not None:
            self._seen[hash(line)] += 1

    def reject(self, why: str, number: int) -> None:
        """A line that is not a record."""
        self.bad.setdefault(why, []).append(number)

    @property
    def duplicates(self) -> int:
        """Records whose exact line appeared earlier in the file."""
        return sum(n - 1 for n in (self._seen or {}).values() if n > 1)

    def report(self, url: str, check: OutputCheck) -> None:
        """Record this file's problems: unreadable lines, and any difference
        from its manifest entry."""
        entry = self.against
        check.files += 1
        check.records += self.records
        for why, numbers in self.bad.items():
            shown = ", ".join(str(n) for n in numbers[:_SHOWN_LINES])
            more = ", ..." if len(numbers) > _SHOWN_LINES else ""
            check.add(url, f"{len(numbers)} line(s) {why} (line {shown}{more})", len(numbers))
        if entry is not None:
            self._against(url, check, entry)

    def _against(self, url: str, check: OutputCheck, entry: ManifestEntry) -> None:
        size_ok = entry.size is None or entry.size == self.size
        sha_ok = self.sha256 is None or entry.sha256 == self.sha256.hexdigest()
        if size_ok and sha_ok:
            return
        expected = entry.records
        size = f"{self.size} of {entry.size} bytes" if entry.size is not None else "sha256"
        present = self.records + sum(len(n) for n in self.bad.values())
        if self.size == 0:
            check.add(url, f"emptied: 0 of {expected} record(s) left", expected or 0)
        elif expected is None:
            check.add(url, f"differs from the manifest ({size})")
        elif present < expected:
            lost = expected - present
            check.add(url, f"{lost} of {expected} record(s) missing (truncated: {size})", lost)
        elif self.records > expected:
            extra = self.records - expected
            dup = f"; {self.duplicates} duplicated line(s)" if self.duplicates else ""
            check.add(
                url, f"{extra} record(s) more than the {expected} the manifest lists{dup}", extra
            )
        elif not self.bad:
            check.add(url, f"changed: same {expected} record(s), sha256 differs from the manifest")


__all__ = ["Damage", "DamagedOutputError", "FileTally", "OutputCheck"]
