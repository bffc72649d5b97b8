"""Profile store figures: import 1M profiles (goal < 60 s) and count an audience of 1M (goal < 1 s).

Runs the same path as ``campaigns profiles import``: ``iter_import_chunks`` then ``import_csv_chunk``.
Usage: ``python -m bench.profiles_bench [N]``; ``bench_profiles`` returns the figures for other benches.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from store.models.profile import ImportSummary
from store.import_chunks import iter_import_chunks
from store.profiles.db import ProfileStore
from store.profiles.generate import generate_profiles_csv

MARKETING_EMAIL = {"kind": "and", "rules": [
    {"kind": "consent", "channel": "email"},
    {"kind": "not", "rule": {"kind": "attribute", "attr": "suppressed", "op": "eq", "value": True}},
    {"kind": "attribute", "attr": "timeZone", "op": "startswith", "value": "Europe/"},
]}
JSON_ATTRIBUTE = {"kind": "attribute", "attr": "loyalty.points", "op": "ge", "value": 10000}


def _median_seconds(action, repeat: int = 5) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def bench_profiles(n: int = 1_000_000) -> dict[str, float]:
    figures: dict[str, float] = {"profiles": n}
    with tempfile.TemporaryDirectory(prefix="profiles-bench-") as tmp:
        directory = Path(tmp)
        start = time.perf_counter()
        path = generate_profiles_csv(directory / "profiles.csv", n, seed=1)
        figures["generate_s"] = time.perf_counter() - start
        store = ProfileStore(directory / "data")
        try:
            total = ImportSummary()
            start = time.perf_counter()
            for chunk in iter_import_chunks(path):
                total.add(store.import_csv_chunk(chunk.header, chunk.text, chunk.first_line))
            figures["import_s"] = time.perf_counter() - start
            figures["import_per_s"] = total.imported / figures["import_s"]
            assert total.imported == n and total.rejected == 0, total.rejections[:3]

            figures["count_marketing_s"], audience = _median_seconds(lambda: store.count_audience(MARKETING_EMAIL))
            figures["marketing_audience"] = audience
            figures["count_all_s"], _ = _median_seconds(lambda: store.count_audience({"kind": "all"}))
            figures["count_json_attribute_s"], _ = _median_seconds(lambda: store.count_audience(JSON_ATTRIBUTE), 3)
            figures["count_in_list_s"], _ = _median_seconds(
                lambda: store.count_audience({"kind": "in_list", "list": "vip"}), 3)

            start = time.perf_counter()
            rows = sum(len(c) for c in store.iter_audience_rows(MARKETING_EMAIL, attributes=["person.name.firstName"]))
            figures["stream_rows_per_s"] = rows / (time.perf_counter() - start)
            start, models = time.perf_counter(), 0
            for chunk in store.iter_audience(MARKETING_EMAIL):
                models += len(chunk)
                if models >= 100_000:
                    break
            figures["stream_profiles_per_s"] = models / (time.perf_counter() - start)
            figures["db_mb"] = store.path.stat().st_size / 1e6
        finally:
            store.close()
    _print(figures)
    return figures


def _print(f: dict[str, float]) -> None:
    n = int(f["profiles"])
    print(f"profiles: {n:,} generated in {f['generate_s']:.1f} s, database {f['db_mb']:.0f} MB")
    print(f"  import           {f['import_s']:6.1f} s   {f['import_per_s']:,.0f} profiles/s   (goal: 1M < 60 s)")
    print(f"  count marketing  {f['count_marketing_s'] * 1000:6.0f} ms  {int(f['marketing_audience']):,} of {n:,}"
          "   (median of 5; goal < 1 s)")
    print(f"  count all        {f['count_all_s'] * 1000:6.0f} ms")
    print(f"  count JSON attr  {f['count_json_attribute_s'] * 1000:6.0f} ms  (loyalty.points >= 10000)")
    print(f"  count in_list    {f['count_in_list_s'] * 1000:6.0f} ms  (vip)")
    print(f"  stream rows      {f['stream_rows_per_s']:,.0f} /s  (iter_audience_rows, one attribute extracted)")
    print(f"  stream Profiles  {f['stream_profiles_per_s']:,.0f} /s  (iter_audience, first 100k)")


if __name__ == "__main__":
    bench_profiles(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
