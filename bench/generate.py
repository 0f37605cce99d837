"""Sample data for the benchmark, from the project's generator (``loader.demo.sample_data``).

``python -m bench.generate OUT MESSAGES DAYS FORMATS`` builds the Hatch sample once
(``build_hatch``) and writes one archive per day and dataset, for each format (comma list), to
``OUT/{fmt}/hatch/{dataset}/{dataset}_{day}_{day}.zip``: the layout ``python -m loader generate
--daily`` gives a landing store. The sample runs ``TAIL`` days past the archives so that every
archived day, including the last (the benchmark's "one more day"), is a full day and not the
generator's ramp-down. Prints ``{"rows": {fmt: N}, "days": [first, last]}``.
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

import duckdb

from loader.demo.sample_data import (
    build_hatch,
    contacts_for_messages,
    default_end_date,
    write_archive,
)
from loader.schemas import HATCH_DATASETS

TAIL = 10


def main(argv: list[str]) -> int:
    """Generate ``DAYS`` daily archives per dataset and format; print the rows written."""
    out, messages, days, formats = Path(argv[0]), int(argv[1]), int(argv[2]), argv[3].split(",")
    end = default_end_date()
    start = end - timedelta(days=days + TAIL - 1)
    last = start + timedelta(days=days - 1)
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    # about ``messages`` conversation items within the archived days
    contacts = contacts_for_messages(messages * (days + TAIL) // days)
    build_hatch(con, seed=42, start_date=start, end_date=end, contacts=contacts)
    counts = dict.fromkeys(formats, 0)
    day = start
    while day <= last:
        for ds in HATCH_DATASETS:
            for fmt in formats:
                dest = out / fmt / "hatch" / ds
                if write_archive(con, ds, day, day, fmt, dest) is not None:  # type: ignore[arg-type]
                    counts[fmt] += con.execute(
                        f"SELECT count(*) FROM sample.{ds} WHERE _day = ?", [day]
                    ).fetchone()[0]
        day += timedelta(days=1)
    print(json.dumps({"rows": counts, "days": [str(start), str(last)]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
