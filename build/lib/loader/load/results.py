"""What a load did: one result per file, and the run's summary."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FileResult:
    """What happened to one file."""

    file_name: str
    system: str
    dataset: str
    status: str  # loaded | skipped | failed
    rows: int = 0
    seconds: float = 0.0
    error: str | None = None

    def __str__(self) -> str:
        if self.status == "failed":
            return f"FAILED  {self.error}"
        rate = f", {self.rows / self.seconds:,.0f} rows/s" if self.seconds > 0 else ""
        if self.status == "skipped":
            return f"skipped {self.file_name} (already loaded)"
        return f"loaded  {self.file_name}: {self.rows:,} rows in {self.seconds:.2f}s{rate}"


@dataclass
class LoadSummary:
    """Every file considered by one ``load`` run."""

    results: list[FileResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # "file: warning" of files loaded now

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def failed(self) -> list[FileResult]:
        return [r for r in self.results if r.status == "failed"]

    @property
    def rows(self) -> int:
        return sum(r.rows for r in self.results if r.status == "loaded")

    def __str__(self) -> str:
        return (
            f"{self.count('loaded')} loaded ({self.rows:,} rows), {self.count('skipped')} "
            f"already loaded, {self.count('failed')} failed"
        )
