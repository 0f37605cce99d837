"""The results table: console text and markdown."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

MIB = 1024 * 1024


@dataclass
class Row:
    """One measured step: every repeat's seconds and peak RSS."""

    key: str
    label: str
    rows: int = 0
    seconds: list[float] = field(default_factory=list)
    rss: list[int] = field(default_factory=list)
    ratio: float | None = None
    ratio_to: str = ""
    note: str = ""

    @property
    def median_s(self) -> float:
        """Median wall seconds over the repeats."""
        return statistics.median(self.seconds)

    @property
    def rows_per_s(self) -> float:
        """Rows per second at the median time."""
        return self.rows / self.median_s if self.median_s else 0.0

    @property
    def peak_rss(self) -> int:
        """Largest peak RSS over the repeats (bytes)."""
        return max(self.rss) if self.rss else 0


HEADER = ("step", "rows", "seconds", "rows/s", "peak RSS", "ratio", "note")


def cells(row: Row) -> tuple[str, ...]:
    """One table line: median seconds (min-max), rows/s, peak RSS, ratio and note."""
    spread = f" ({min(row.seconds):.2f}-{max(row.seconds):.2f})" if len(row.seconds) > 1 else ""
    ratio = f"{row.ratio:.2f} {row.ratio_to}" if row.ratio is not None else ""
    return (
        row.label,
        f"{row.rows:,}",
        f"{row.median_s:.2f}{spread}",
        f"{row.rows_per_s:,.0f}",
        f"{row.peak_rss / MIB:,.0f} MiB" if row.rss else "",
        ratio,
        row.note,
    )


def markdown_table(rows: list[Row]) -> str:
    """The table as GitHub markdown."""
    lines = [
        "| " + " | ".join(HEADER) + " |",
        "|" + "|".join(["---"] + ["--:"] * 5 + ["---"]) + "|",
    ]
    lines += ["| " + " | ".join(c.replace("|", "/") for c in cells(r)) + " |" for r in rows]
    return "\n".join(lines)


def text_table(rows: list[Row]) -> str:
    """The table aligned for a terminal."""
    grid = [HEADER, *(cells(r) for r in rows)]
    widths = [max(len(line[i]) for line in grid) for i in range(len(HEADER))]
    out = []
    for n, line in enumerate(grid):
        out.append(
            "  ".join(
                c.ljust(w) if i in (0, len(HEADER) - 1) else c.rjust(w)
                for i, (c, w) in enumerate(zip(line, widths, strict=True))
            ).rstrip()
        )
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)
