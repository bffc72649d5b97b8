"""A workflow's populations, computed in the profile store: each activity is a few ``INSERT … SELECT`` statements.

The profiles on each transition are rows of ``workflow_members`` (run, transition, profile id, enrichment data),
so a million profiles flow through a workflow without one of them being loaded into Python (DESIGN.md 7). A run
keeps its rows in the file (one transaction per activity: a kill mid-activity leaves the state before it and the
resume evaluates that activity again); a test keeps them in TEMP tables of a read-only connection, so nothing it
does can reach the file. The SQL is plain (joins, ``NOT EXISTS``, ``row_number()``), PostgreSQL-ready but for the
JSON functions and the bucket function, which that port registers too.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import threading
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from ..db.transaction import transaction
from ..errors import ValidationFailed
from ..models.audience import ATTRIBUTE_PATH, PROFILE_FIELDS, Rule
from ..models.workflow import (
    Activity, BuildAudience, Combine, Deduplication, Enrichment, ReadAudience, SaveAudience, Split, Workflow,
)
from .audience_sql import compile_rule
from .db import ROW_FIELDS, WORKFLOW_MEMBERS_COLUMNS, ProfileStore, _nest, keyset_pages, row_columns

_DURABLE = "workflow_members"
_TEST = "workflow_test_members"
_ENRICHMENT = "workflow_enrichment_rows"  # TEMP: a CSV enrichment's rows, keyed for the join
_MERGED_ATTRIBUTES = "CASE WHEN m.data IS NULL THEN p.attributes ELSE json_patch(p.attributes, m.data) END"
"""A member's attributes as templates and deduplication read them: its enrichment data over the stored ones."""


def split_bucket(seed: str, profile_id: str) -> int:
    """A profile's bucket in 0..99 for percentage splits: the same for the same seed, whoever computes it."""
    return zlib.crc32(f"{seed}:{profile_id}".encode("utf-8", "surrogatepass")) % 100


@dataclass
class ActivityResult:
    inbound: int                 # profiles that reached the activity (distinct, over all its inputs; 0 for sources)
    outbound: dict[str, int] = field(default_factory=dict)  # outbound transition name -> profiles put on it
    unrouted: int = 0            # a split's profiles no segment took and no remainder transition carries


class Populations:
    """The profiles on each transition of one workflow run (durable) or one test (temporary)."""

    def __init__(self, profiles: ProfileStore, key: str, *, test: bool = False) -> None:
        self._profiles, self._key, self._test = profiles, key, test
        self._table = _TEST if test else _DURABLE
        self._private: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        if test:
            connection = sqlite3.connect(f"{profiles.path.resolve().as_uri()}?mode=ro", uri=True,
                                         isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA busy_timeout = 10000")
            connection.execute("PRAGMA cache_size = -65536")
            connection.execute("PRAGMA temp_store = MEMORY")
            connection.execute(f"CREATE TEMP TABLE {_TEST} {WORKFLOW_MEMBERS_COLUMNS}")
            self._private = connection

    # ---- computing ------------------------------------------------------------------------------

    def evaluate(self, workflow: Workflow, activity: Activity, *, seed: str,
                 audiences: dict[str, Rule]) -> ActivityResult:
        """The populations of ``activity``'s outbound transitions from its inbound ones', replacing what an
        earlier attempt left there, in one transaction (a resume calls it again)."""
        inputs = [t.name for t in workflow.inbound(activity.id)]
        outputs = [t.name for t in workflow.outbound(activity.id)]
        with self._transaction() as db:
            db.execute(f"DELETE FROM {self._table} WHERE run = ? AND transition IN ({_marks(outputs)})",
                       [self._key, *outputs])
            inbound = self._inbound(db, inputs)
            if isinstance(activity, Split):
                self._split(db, activity, inputs, outputs, seed)
            elif outputs or isinstance(activity, SaveAudience):
                sql, params = self._population(db, workflow, activity, inputs, audiences)
                if outputs:
                    self._fill(db, outputs, sql, params)
                if isinstance(activity, SaveAudience) and not self._test:
                    db.execute("DELETE FROM list_members WHERE list = ?", [activity.list])
                    db.execute(f"INSERT INTO list_members (list, profile_id) SELECT ?, profile_id FROM ({sql}) s",
                               [activity.list, *params])
            counts = {name: self._count(db, name) for name in outputs}
        unrouted = inbound - sum(counts.values()) if isinstance(activity, Split) else 0
        return ActivityResult(inbound=inbound, outbound=counts, unrouted=unrouted)

    def _inbound(self, db: sqlite3.Connection, inputs: list[str]) -> int:
        if not inputs:
            return 0
        if len(inputs) == 1:
            return self._count(db, inputs[0])
        return db.execute(f"SELECT count(DISTINCT profile_id) FROM {self._table} WHERE run = ? AND transition IN "
                          f"({_marks(inputs)})", [self._key, *inputs]).fetchone()[0]

    def _population(self, db: sqlite3.Connection, workflow: Workflow, activity: Activity, inputs: list[str],
                    audiences: dict[str, Rule]) -> tuple[str, list]:
        """``(sql, params)`` selecting ``profile_id, data``: the population every outbound transition gets."""
        if isinstance(activity, (BuildAudience, ReadAudience)):
            rule = activity.rule if isinstance(activity, BuildAudience) else _audience(audiences, activity)
            where, params = compile_rule(rule)
            return f"SELECT id AS profile_id, NULL AS data FROM profiles WHERE {where}", params
        if not inputs:
            raise ValidationFailed(f"activity {activity.id!r} has no input: connect an activity to it")
        if isinstance(activity, Combine) and activity.operation == "intersection":
            sql, params = self._union(inputs)
            return f"SELECT profile_id, data FROM ({sql}) merged WHERE inputs = ?", [*params, len(inputs)]
        if isinstance(activity, Combine) and activity.operation == "exclusion":
            kept = [t.name for t in workflow.inbound(activity.id) if t.source == activity.primary]
            if not kept:
                raise ValidationFailed(f"activity {activity.id!r}: primary {activity.primary!r} is not one of its inputs; "
                                      "name the input whose profiles are kept")
            others = [name for name in inputs if name not in kept]
            return self._union(kept, f" AND NOT EXISTS (SELECT 1 FROM {self._table} o WHERE o.run = ? AND "
                                     f"o.transition IN ({_marks(others)}) AND o.profile_id = m.profile_id)",
                               [self._key, *others])
        if len(inputs) > 1:  # union, and-join, an end several branches reach
            return self._union(inputs)
        if isinstance(activity, Deduplication):
            return self._deduplicated(activity, inputs[0])
        if isinstance(activity, Enrichment):
            return self._enriched(db, activity, inputs[0], audiences)
        return f"SELECT profile_id, data FROM {self._table} WHERE run = ? AND transition = ?", [self._key, inputs[0]]

    def _union(self, inputs: list[str], condition: str = "", condition_params: Sequence = ()) -> tuple[str, list]:
        """Each profile once over ``inputs`` (meeting ``condition``), with the number of inputs that have it;
        of several branches' enrichment data, one is kept."""
        return (f"SELECT m.profile_id, max(m.data) AS data, count(*) AS inputs FROM {self._table} m WHERE m.run = ? "
                f"AND m.transition IN ({_marks(inputs)}){condition} GROUP BY m.profile_id",
                [self._key, *inputs, *condition_params])

    def _deduplicated(self, activity: Deduplication, source: str) -> tuple[str, list]:
        column = PROFILE_FIELDS.get(activity.attr)
        if column is None and not ATTRIBUTE_PATH.match(activity.attr):
            raise ValidationFailed(f"activity {activity.id!r}: {activity.attr!r} is not an attribute path")
        value = f"p.{column}" if column else f"json_extract({_MERGED_ATTRIBUTES}, '$.{activity.attr}')"
        return (f"SELECT profile_id, data FROM (SELECT profile_id, data, v, row_number() OVER "
                f"(PARTITION BY v ORDER BY profile_id) AS n FROM (SELECT m.profile_id, m.data, {value} AS v "
                f"FROM {self._table} m JOIN profiles p ON p.id = m.profile_id WHERE m.run = ? AND m.transition = ?) "
                f"valued) ranked WHERE v IS NULL OR n = 1", [self._key, source])

    def _enriched(self, db: sqlite3.Connection, activity: Enrichment, source: str,
                  audiences: dict[str, Rule]) -> tuple[str, list]:
        if activity.csv is None:
            where, params = compile_rule(_audience(audiences, activity), paged=True)
            path = (activity.attr or "").split(".")
            patches = [json.dumps(_nest([(path, flag)])) for flag in (True, False)]
            return (f"SELECT m.profile_id, json_patch(coalesce(m.data, '{{}}'), CASE WHEN {where} THEN ? ELSE ? "
                    f"END) AS data FROM {self._table} m JOIN profiles ON profiles.id = m.profile_id "
                    "WHERE m.run = ? AND m.transition = ?", [*params, *patches, self._key, source])
        db.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_ENRICHMENT} (profile_id TEXT NOT NULL PRIMARY KEY, "
                   "patch TEXT NOT NULL)")
        db.execute(f"DELETE FROM {_ENRICHMENT}")
        db.executemany(f"INSERT INTO {_ENRICHMENT} (profile_id, patch) VALUES (?, ?)",
                       list(_csv_patches(activity).items()))
        return (f"SELECT m.profile_id, CASE WHEN e.patch IS NULL THEN m.data ELSE json_patch(coalesce(m.data, '{{}}'), "
                f"e.patch) END AS data FROM {self._table} m LEFT JOIN {_ENRICHMENT} e ON e.profile_id = m.profile_id "
                "WHERE m.run = ? AND m.transition = ?", [self._key, source])

    def _split(self, db: sqlite3.Connection, activity: Split, inputs: list[str], outputs: list[str],
               seed: str) -> None:
        """Every profile to its first matching segment (a rule, or a share of 0..99 of its bucket, the shares
        laid out in segment order), else to the remainder: one pass, the destination computed per row."""
        if len(inputs) != 1:
            raise ValidationFailed(f"split {activity.id!r} takes one input, it has {len(inputs)}")
        cases, params, low = [], [], 0
        for segment in activity.segments:
            if segment.rule is not None:
                where, rule_params = compile_rule(segment.rule, paged=True)
                cases.append(f"WHEN {where} THEN ?")
                params += rule_params
            else:
                percent = segment.percent or 0
                cases.append("WHEN m.bucket >= ? AND m.bucket < ? THEN ?")
                params += [low, low + percent]
                low += percent
            params.append(segment.transition if segment.transition in outputs else None)
        rest = activity.remainder if activity.remainder in outputs else None
        join = ("JOIN profiles ON profiles.id = m.profile_id"
                if any(s.rule is not None for s in activity.segments) else "")
        db.execute(
            f"INSERT INTO {self._table} (run, transition, profile_id, data) SELECT ?, destination, profile_id, data "
            f"FROM (SELECT CASE {' '.join(cases)} ELSE ? END AS destination, m.profile_id, m.data FROM "
            f"(SELECT profile_id, data, workflow_bucket(?, profile_id) AS bucket FROM {self._table} "
            f"WHERE run = ? AND transition = ?) m {join}) routed WHERE destination IS NOT NULL",
            [self._key, *params, rest, seed, self._key, inputs[0]])

    def _fill(self, db: sqlite3.Connection, outputs: list[str], sql: str, params: list) -> None:
        """The population on the first outbound transition, then copied to the others (computed once)."""
        db.execute(f"INSERT INTO {self._table} (run, transition, profile_id, data) "
                   f"SELECT ?, ?, profile_id, data FROM ({sql}) population", [self._key, outputs[0], *params])
        for name in outputs[1:]:
            db.execute(f"INSERT INTO {self._table} (run, transition, profile_id, data) SELECT run, ?, profile_id, "
                       f"data FROM {self._table} WHERE run = ? AND transition = ?", [name, self._key, outputs[0]])

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        if self._private is None:
            with self._profiles.writing() as db:
                db.create_function("workflow_bucket", 2, split_bucket, deterministic=True)
                yield db
            return
        self._private.create_function("workflow_bucket", 2, split_bucket, deterministic=True)
        with transaction(self._private, self._lock, begin="BEGIN") as db:
            yield db

    # ---- reading --------------------------------------------------------------------------------

    def _reader(self) -> sqlite3.Connection:
        return self._private if self._private is not None else self._profiles.reader()

    def _count(self, db: sqlite3.Connection, transition: str) -> int:
        return db.execute(f"SELECT count(*) FROM {self._table} WHERE run = ? AND transition = ?",
                          [self._key, transition]).fetchone()[0]

    def count(self, transition: str) -> int:
        return self._count(self._reader(), transition)

    def sample(self, transition: str, n: int = 5) -> list[str]:
        """A preview of the profiles on ``transition``: the lowest ids first."""
        return [r[0] for r in self._reader().execute(
            f"SELECT profile_id FROM {self._table} WHERE run = ? AND transition = ? ORDER BY profile_id LIMIT ?",
            [self._key, transition, n])]

    def bounds(self, transition: str) -> tuple[int, str | None]:
        """Size and highest id of the population: a channel activity freezes its audience at these."""
        count, last = self._reader().execute(
            f"SELECT count(*), max(profile_id) FROM {self._table} WHERE run = ? AND transition = ?",
            [self._key, transition]).fetchone()
        return count, last

    def rows(self, transition: str, *, attributes: Sequence[str], chunk_size: int,
             after_id: str = "", until_id: str | None = None) -> Iterator[list[tuple]]:
        """The population as ``ProfileStore.iter_audience_rows`` gives an audience (keyset pages of tuples in
        ``ROW_FIELDS`` order then ``attributes``' values), enrichment data merged over the stored attributes."""
        columns = row_columns(attributes)
        bounded = " AND m.profile_id <= ?" if until_id is not None else ""
        stored = ", ".join(f"p.{name}" for name in ROW_FIELDS[:-1])
        sql = (f"SELECT {', '.join(columns)} FROM (SELECT {stored}, {_MERGED_ATTRIBUTES} AS attributes "
               f"FROM {self._table} m JOIN profiles p ON p.id = m.profile_id WHERE m.profile_id > ? AND m.run = ? "
               f"AND m.transition = ?{bounded} ORDER BY m.profile_id LIMIT ?) population ORDER BY id")
        params = [self._key, transition, *([until_id] if until_id is not None else [])]
        return keyset_pages(self._reader, sql, params, chunk_size, after_id)

    # ---- ending ---------------------------------------------------------------------------------

    def drop(self) -> None:
        """Forget every population of this key (the run ended)."""
        with self._transaction() as db:
            db.execute(f"DELETE FROM {self._table} WHERE run = ?", [self._key])

    def close(self) -> None:
        if self._private is not None:
            with self._lock:
                self._private.close()


def _marks(values: Sequence) -> str:
    return ", ".join("?" for _ in values)


def _audience(audiences: dict[str, Rule], activity: ReadAudience | Enrichment) -> Rule:
    try:
        return audiences[activity.audience or ""]
    except KeyError:
        raise ValidationFailed(f"activity {activity.id!r} reads audience {activity.audience!r}, which does not "
                               "exist; create it or pick one from `campaigns audiences`") from None


def _csv_patches(activity: Enrichment) -> dict[str, str]:
    """A CSV enrichment as ``{profile id: JSON merge patch}``: the first column is the id, each other column a
    dotted attribute path; empty cells add nothing, and a later row of an id wins."""
    reader = csv.reader(io.StringIO(activity.csv or ""))
    header = [name.strip() for name in next(reader, [])]
    if not header or header[0] != "id" or not all(ATTRIBUTE_PATH.match(name) for name in header[1:]):
        raise ValidationFailed(f"activity {activity.id!r}: the CSV's first column must be id, then attribute paths "
                               "(e.g. id,offer.code)")
    paths = [name.split(".") for name in header[1:]]
    for outer in paths:
        inner = next((p for p in paths if len(p) > len(outer) and p[:len(outer)] == outer), None)
        if inner is not None:
            raise ValidationFailed(f"activity {activity.id!r}: the CSV's column {'.'.join(inner)!r} goes inside "
                                   f"{'.'.join(outer)!r}, which holds a value; keep one")
    patches: dict[str, str] = {}
    for record in reader:
        if record and record[0].strip():
            patches[record[0].strip()] = json.dumps(_nest((path, cell) for path, cell in zip(paths, record[1:])
                                                          if cell != ""))
    return patches
