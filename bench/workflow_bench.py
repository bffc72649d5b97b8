"""Workflow test-mode figures (issue 13, item 9): 8 activities over 1,000,000 profiles, goal under 10 s on one core.

The profiles are made by SQL straight into a fresh profile store (a set-up, not the import path, which
``profiles_bench`` measures). The test mode runs 3 times (median printed), then once more activity by activity
for the per-activity times. Usage: ``python -m bench.workflow_bench [N]``.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from store.models.audience import RULE
from store.models.workflow import Workflow
from store.profiles.db import ProfileStore
from store.profiles.workflow_sql import Populations
from store.workflow_test import run_workflow_test

WORKFLOW = Workflow.model_validate({
    "activities": [
        {"id": "consented", "kind": "build_audience", "rule": {"kind": "consent", "channel": "email"}},
        {"id": "vips", "kind": "read_audience", "audience": "vip"},
        {"id": "together", "kind": "combine", "operation": "union"},
        {"id": "one-per-email", "kind": "deduplication", "attr": "identities.email"},
        {"id": "split", "kind": "split", "remainder": "rest", "segments": [
            {"transition": "gold", "rule": {"kind": "attribute", "attr": "loyalty.tier", "op": "eq", "value": "gold"}},
            {"transition": "sample", "percent": 30}]},
        {"id": "flag-vips", "kind": "enrichment", "audience": "vip", "attr": "isVip"},
        {"id": "mail", "kind": "email", "content": {
            "subject": "Hello {{profile.person.name.firstName}}", "body": "<p>VIP: {{profile.isVip}}</p>"}},
        {"id": "done", "kind": "end"},
    ],
    "transitions": [
        {"from": "consented", "to": "together", "name": "consented"}, {"from": "vips", "to": "together", "name": "vips"},
        {"from": "together", "to": "one-per-email", "name": "together"},
        {"from": "one-per-email", "to": "split", "name": "unique"},
        {"from": "split", "to": "flag-vips", "name": "sample"}, {"from": "split", "to": "done", "name": "gold"},
        {"from": "split", "to": "done", "name": "rest"}, {"from": "flag-vips", "to": "mail", "name": "flagged"},
        {"from": "mail", "to": "done", "name": "mailed"},
    ],
})
AUDIENCES = {"vip": RULE.validate_python({"kind": "in_list", "list": "vip"})}


def make_profiles(store: ProfileStore, n: int) -> None:
    """``n`` profiles p0000001…: 80% consent to email, one email in 25 shared, a tier, 20% in list vip."""
    with store.writing() as db:
        db.execute(
            "INSERT INTO profiles (id, consent_email, email, attributes) "
            "WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < ?) "
            "SELECT printf('p%07d', n), n % 5 != 0, printf('u%d@x.example', CASE WHEN n % 25 = 2 THEN n - 1 ELSE n END), "
            "json_object('person', json_object('name', json_object('firstName', 'Name' || n)), "
            "'loyalty', json_object('tier', CASE n % 8 WHEN 0 THEN 'gold' WHEN 1 THEN 'silver' ELSE 'bronze' END)) "
            "FROM k", [n])
        db.execute("INSERT INTO list_members (list, profile_id) SELECT 'vip', id FROM profiles "
                   "WHERE substr(id, -1) IN ('5', '7')")


def bench_workflow(n: int = 1_000_000) -> dict[str, float]:
    figures: dict[str, float] = {"profiles": n}
    now = datetime.now(timezone.utc)
    with tempfile.TemporaryDirectory(prefix="workflow-bench-") as tmp:
        store = ProfileStore(Path(tmp))
        try:
            start = time.perf_counter()
            make_profiles(store, n)
            figures["setup_s"] = time.perf_counter() - start
            times = []
            for _ in range(3):
                start = time.perf_counter()
                counts = run_workflow_test(store, "bench", 1, WORKFLOW, AUDIENCES, now)
                times.append(time.perf_counter() - start)
            figures["test_mode_s"] = statistics.median(times)
            for t in counts.transitions:
                figures[f"count {t.name}"] = t.count or 0
            figures["rendered"] = next(a for a in counts.activities if a.id == "mail").rendered is not None
            populations = Populations(store, "bench-steps", test=True)
            try:
                for activity in WORKFLOW.order():
                    start = time.perf_counter()
                    populations.evaluate(WORKFLOW, activity, seed=f"bench:{activity.id}", audiences=AUDIENCES)
                    figures[f"activity {activity.id}"] = time.perf_counter() - start
            finally:
                populations.close()
        finally:
            store.close()
    _print(figures)
    return figures


def _print(f: dict[str, float]) -> None:
    print(f"workflow test mode: {int(f['profiles']):,} profiles (made by SQL in {f['setup_s']:.1f} s)")
    print(f"  8 activities, median of 3   {f['test_mode_s']:6.2f} s   (goal: < 10 s on one core)")
    for name, value in f.items():
        if name.startswith("activity "):
            print(f"    {name.removeprefix('activity '):<16} {value:6.2f} s")
    print("  counts: " + ", ".join(f"{k.removeprefix('count ')} {int(v):,}" for k, v in f.items()
                                   if k.startswith("count ")))


if __name__ == "__main__":
    bench_workflow(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
