"""Profiles in SQLite (``profiles.sqlite3`` in the data directory): import, lookup, audiences.

Millions of profiles do not fit the catalogue file, so they live here: one writer connection
(behind a lock, one transaction per import chunk) and one reader connection per thread, which WAL
lets read while an import writes. Audience reads are keyset-paged short reads, so a run never holds
a snapshot that blocks checkpoints and never has every profile in memory.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..db.transaction import transaction
from ..errors import NotFound, StoreCorrupted, ValidationFailed
from ..limits import JSON_DEPTH, too_deep
from ..models.audience import ATTRIBUTE_PATH, PROFILE_FIELDS
from ..models.profile import (
    Consent, Identities, ImportSummary, Profile, normalize_email, normalize_list_name, normalize_phone,
    normalize_profile_id, normalize_push_token,
)
from .audience_sql import EXTRACTED_COLUMNS, compile_rule

FILE_NAME = "profiles.sqlite3"
SCHEMA_VERSION = 1
ROW_FIELDS = (
    "id", "email", "phone", "push_token", "consent_email", "consent_sms", "consent_push", "suppressed", "attributes",
)
"""Order of the tuples ``iter_audience_rows`` yields (``attributes`` is JSON text unless paths are asked for)."""

_EXTRACTED = ",\n".join(
    f"    {column} TEXT GENERATED ALWAYS AS (CASE json_type(attributes, '$.{path}') "
    f"WHEN 'text' THEN json_extract(attributes, '$.{path}') END) STORED"
    for path, column in EXTRACTED_COLUMNS.items()
)
_SCHEMA = f"""
CREATE TABLE profiles (
    id TEXT NOT NULL PRIMARY KEY,
    consent_email INTEGER NOT NULL DEFAULT 0,
    consent_sms INTEGER NOT NULL DEFAULT 0,
    consent_push INTEGER NOT NULL DEFAULT 0,
    suppressed INTEGER NOT NULL DEFAULT 0,
    email TEXT,
    phone TEXT,
    push_token TEXT,
    attributes TEXT NOT NULL DEFAULT '{{}}',
{_EXTRACTED}
) WITHOUT ROWID;
CREATE INDEX profiles_email ON profiles (email) WHERE email IS NOT NULL;
CREATE INDEX profiles_phone ON profiles (phone) WHERE phone IS NOT NULL;
CREATE INDEX profiles_push_token ON profiles (push_token) WHERE push_token IS NOT NULL;
CREATE TABLE list_members (
    list TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    PRIMARY KEY (list, profile_id)
) WITHOUT ROWID;
CREATE INDEX list_members_profile ON list_members (profile_id);
PRAGMA user_version = {SCHEMA_VERSION};
"""
WORKFLOW_MEMBERS_COLUMNS = (
    "(run TEXT NOT NULL, transition TEXT NOT NULL, profile_id TEXT NOT NULL, data TEXT, "
    "PRIMARY KEY (run, transition, profile_id)) WITHOUT ROWID"
)
"""A workflow's populations: the profiles on each transition of a run, with the enrichment data each carries
(a JSON object, NULL when none). ``store.profiles.workflow_sql`` reads and writes them."""
_LISTS = "(SELECT group_concat(list, ';') FROM list_members WHERE profile_id = profiles.id)"
_PROFILE_COLUMNS = ", ".join(ROW_FIELDS) + ", " + _LISTS


STRUCTURED_VALUE = b"\x00"
"""What ``iter_audience_rows(attributes=...)`` gives for a list or an object: not a value to print."""


def _extracted_value(path: str) -> str:
    """An attribute as a template prints it: JSON booleans as true/false (SQLite would say 1/0), and
    lists or objects as ``STRUCTURED_VALUE`` so the template refuses them as it does with full profiles."""
    where = f"'$.{path}'"
    return (f"CASE json_type(attributes, {where}) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' "
            f"WHEN 'array' THEN x'00' WHEN 'object' THEN x'00' ELSE json_extract(attributes, {where}) END")


class ProfileStore:
    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / FILE_NAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._statements: dict[tuple, str] = {}
        connection = None
        try:
            connection = self._writer = self._connect()
            self._writer.execute("PRAGMA journal_mode = WAL")
            self._writer.execute("PRAGMA synchronous = NORMAL")
            version = self._writer.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                self._writer.executescript(f"BEGIN IMMEDIATE;{_SCHEMA}COMMIT;")
            elif version != SCHEMA_VERSION:
                self._writer.close()
                raise StoreCorrupted(
                    f"{self.path} has profile schema version {version}, this program knows {SCHEMA_VERSION}; "
                    "use the matching version of Campaigns"
                )
            self._writer.execute(f"CREATE TABLE IF NOT EXISTS workflow_members {WORKFLOW_MEMBERS_COLUMNS}")
        except sqlite3.DatabaseError as error:
            if connection is not None:
                connection.close()
            raise StoreCorrupted(
                f"{self.path} is not a readable profile database ({error}); move it aside and import the profiles again"
            ) from None

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA busy_timeout = 10000")
        connection.execute("PRAGMA cache_size = -65536")
        connection.execute("PRAGMA temp_store = MEMORY")
        return connection

    def reader(self) -> sqlite3.Connection:
        """The calling thread's read-only connection (WAL lets it read while the writer writes)."""
        return self._reader()

    @contextmanager
    def writing(self) -> Iterator[sqlite3.Connection]:
        """The writer connection inside one ``BEGIN IMMEDIATE`` transaction: committed at the end of the block,
        rolled back if it raises, so a crash leaves the state before it."""
        with transaction(self._writer, self._lock) as db:
            yield db

    def _reader(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._connect()
            connection.execute("PRAGMA query_only = 1")
            self._local.connection = connection
            with self._lock:
                self._readers.append(connection)
        return connection

    def close(self) -> None:
        with self._lock:
            for connection in self._readers:
                connection.close()
            self._readers.clear()
            self._writer.close()

    # ---- import -------------------------------------------------------------------------------

    def validate_csv_header(self, header: list[str]) -> None:
        """Refuse a header that could never import (no ``id``, unknown channel…) before any write."""
        plan_csv(tuple(header))

    def import_csv_chunk(self, header: list[str], text: str, first_line: int) -> ImportSummary:
        return self._write(_parse_csv(plan_csv(tuple(header)), text, first_line))

    def import_jsonl_chunk(self, text: str, first_line: int) -> ImportSummary:
        return self._write(_parse_jsonl(text, first_line))

    def _write(self, chunk: _Chunk) -> ImportSummary:
        summary = chunk.summary
        if not chunk.groups:
            return summary
        ids = [row[0] for _, rows in chunk.groups for row in rows]
        with self.writing() as db:
            existing = {
                r[0] for r in db.execute(
                    "SELECT id FROM profiles WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(ids),)
                )
            }
            for columns, rows in chunk.groups:
                db.executemany(self._upsert_sql(columns), rows)
            if chunk.lists:
                db.executemany(
                    "DELETE FROM list_members WHERE profile_id = ?",
                    [(pid,) for pid in chunk.lists if pid in existing],
                )
                db.executemany(
                    "INSERT OR IGNORE INTO list_members (list, profile_id) VALUES (?, ?)",
                    [(name, pid) for pid, names in chunk.lists.items() for name in names],
                )
        seen = existing
        for pid in ids:
            if pid in seen:
                summary.updated += 1
            else:
                summary.imported += 1
                seen.add(pid)
        return summary

    def _upsert_sql(self, columns: tuple[str, ...]) -> str:
        """Upsert of the given columns; ``attributes`` takes two values: the new object and the merge patch."""
        sql = self._statements.get(columns)
        if sql is None:
            scalars = [c for c in columns if c != "attributes"]
            names = ["id", *scalars]
            values = [f"?{i + 1}" for i in range(len(names))]
            updates = [f"{c} = excluded.{c}" for c in scalars]
            if "attributes" in columns:
                names.append("attributes")
                values.append(f"?{len(values) + 1}")
                updates.append(f"attributes = json_patch(profiles.attributes, ?{len(values) + 1})")
            conflict = f"DO UPDATE SET {', '.join(updates)}" if updates else "DO NOTHING"
            sql = (
                f"INSERT INTO profiles ({', '.join(names)}) VALUES ({', '.join(values)}) "
                f"ON CONFLICT (id) {conflict}"
            )
            self._statements[columns] = sql
        return sql

    # ---- reads ----------------------------------------------------------------------------------

    def get(self, profile_id: str) -> Profile:
        row = self._reader().execute(
            f"SELECT {_PROFILE_COLUMNS} FROM profiles WHERE id = ?", (profile_id,)
        ).fetchone()
        if row is None:
            raise NotFound(
                f"no profile with id {profile_id!r}; check the id, or import it with 'campaigns profiles import FILE'"
            )
        return _profile(row)

    def count(self) -> int:
        return self._reader().execute("SELECT count(*) FROM profiles").fetchone()[0]

    def count_audience(self, rule: Any) -> int:
        where, params = compile_rule(rule)
        return self._reader().execute(f"SELECT count(*) FROM profiles WHERE {where}", params).fetchone()[0]

    def iter_audience(
        self, rule: Any, chunk_size: int = 1000, after_id: str | None = None
    ) -> Iterator[list[Profile]]:
        """Matching profiles in id order, ``chunk_size`` at a time; resume after a given id."""
        where, params = compile_rule(rule, paged=True)
        sql = f"SELECT {_PROFILE_COLUMNS} FROM profiles WHERE id > ? AND {where} ORDER BY id LIMIT ?"
        for rows in self._pages(sql, params, chunk_size, after_id):
            yield [_profile(row) for row in rows]

    def iter_audience_rows(
        self,
        rule: Any,
        chunk_size: int = 1000,
        after_id: str | None = None,
        attributes: Sequence[str] | None = None,
        until_id: str | None = None,
    ) -> Iterator[list[tuple]]:
        """The fast path for sending: plain tuples in ``ROW_FIELDS`` order, no model per profile.

        ``until_id`` bounds the ids from above (inclusive), so a run reads only the audience it froze.

        With ``attributes`` (dotted paths, e.g. the keys a template uses) the last field is replaced
        by one value per path, extracted by SQLite, so nothing has to parse JSON in Python; objects
        and arrays come back as JSON text, and profile fields (``identities.email``…) work too.
        """
        where, params = compile_rule(rule, paged=True)
        columns = row_columns(attributes)
        if until_id is not None:  # a frozen audience, or one claimed batch: ids in (after_id, until_id]
            where, params = f"id <= ? AND {where}", [until_id, *params]
        sql = f"SELECT {', '.join(columns)} FROM profiles WHERE id > ? AND {where} ORDER BY id LIMIT ?"
        yield from self._pages(sql, params, chunk_size, after_id)

    def audience_bounds(self, rule: Any) -> tuple[int, str | None]:
        """Size and highest id of an audience: a run freezes its audience at these when it starts."""
        where, params = compile_rule(rule)
        count, last = self._reader().execute(f"SELECT count(*), max(id) FROM profiles WHERE {where}", params).fetchone()
        return count, last

    def _pages(self, sql: str, params: list, chunk_size: int, after_id: str | None) -> Iterator[list[tuple]]:
        return keyset_pages(self._reader, sql, params, chunk_size, after_id)

    def list_names(self) -> dict[str, int]:
        return dict(
            self._reader().execute("SELECT list, count(*) FROM list_members GROUP BY list ORDER BY list").fetchall()
        )

    def explain(self, rule: Any, *, paged: bool = False) -> list[str]:
        """The query plan of an audience count (or of one page of ``iter_audience``), for checks and tuning."""
        where, params = compile_rule(rule, paged=paged)
        if paged:
            sql = f"SELECT id FROM profiles WHERE id > ? AND {where} ORDER BY id LIMIT ?"
            params = ["", *params, 1000]
        else:
            sql = f"SELECT count(*) FROM profiles WHERE {where}"
        return [r[3] for r in self._reader().execute(f"EXPLAIN QUERY PLAN {sql}", params)]


def row_columns(attributes: Sequence[str] | None) -> list[str]:
    """The selected columns of ``iter_audience_rows``: ``ROW_FIELDS``, the last replaced by one value per
    attribute path when paths are asked for (over any query whose columns carry ``ROW_FIELDS``' names)."""
    columns = list(ROW_FIELDS)
    if attributes is not None:
        for path in attributes:
            if not ATTRIBUTE_PATH.match(path):
                raise ValidationFailed(f"invalid attribute path {path!r} (e.g. person.name.firstName)")
        columns[-1:] = [PROFILE_FIELDS.get(p) or _extracted_value(p) for p in attributes]
    return columns


def keyset_pages(connection: Callable[[], sqlite3.Connection], sql: str, params: list, chunk_size: int,
                 after_id: str | None) -> Iterator[list[tuple]]:
    """Short reads of ``sql`` (``… WHERE id > ? … ORDER BY id LIMIT ?``, the first column the id), each on the
    connection ``connection()`` gives then, so no read holds a snapshot between pages."""
    if chunk_size < 1:
        raise ValidationFailed(f"chunk_size must be at least 1, not {chunk_size}")
    after = after_id or ""
    while True:
        rows = connection().execute(sql, [after, *params, chunk_size]).fetchall()
        if not rows:
            return
        yield rows
        if len(rows) < chunk_size:
            return
        after = rows[-1][0]


def _profile(row: tuple) -> Profile:
    """A Profile from trusted stored data: ``model_construct`` skips re-validating what import checked."""
    pid, email, phone, push_token, c_email, c_sms, c_push, suppressed, attributes, lists = row
    return Profile.model_construct(
        id=pid,
        attributes=json.loads(attributes),
        identities=Identities.model_construct(email=email, phone=phone, push_token=push_token),
        consent=Consent.model_construct(email=bool(c_email), sms=bool(c_sms), push=bool(c_push)),
        suppressed=bool(suppressed),
        lists=sorted(lists.split(";")) if lists else [],
    )


# ---- parsing import records ------------------------------------------------------------------------
# Plain functions and tuples rather than a model per row: a million rows must import in well under a
# minute. The checks are the ones the models run (store.models.profile).

IDENTITY_COLUMNS = {"email": "email", "phone": "phone", "push_token": "push_token", "pushToken": "push_token"}
CONSENT_COLUMNS = {"email": "consent_email", "sms": "consent_sms", "push": "consent_push"}
SCALAR_ORDER = ("email", "phone", "push_token", "consent_email", "consent_sms", "consent_push", "suppressed")
RESERVED_ROOTS = frozenset({"id", "identities", "consent", "suppressed", "lists"})
ATTRIBUTE_TYPES = ("string", "number", "boolean")
MAX_ATTRIBUTES_JSON = 100_000
_TRUE_WORDS = frozenset({"true", "yes", "1", "y", "t"})
_FALSE_WORDS = frozenset({"false", "no", "0", "n", "f", ""})
_INT = re.compile(r"-?(0|[1-9][0-9]{0,17})\Z")
_encode_string = json.encoder.encode_basestring
_DUMPS = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


class _Reject(Exception):
    """One record cannot be imported; the message says what to fix."""


@dataclass
class _Chunk:
    summary: ImportSummary = field(default_factory=ImportSummary)
    groups: list[tuple[tuple[str, ...], list[tuple]]] = field(default_factory=list)
    lists: dict[str, list[str]] = field(default_factory=dict)

    def add(self, columns: tuple[str, ...], row: tuple) -> None:
        if not self.groups or self.groups[-1][0] != columns:
            self.groups.append((columns, []))
        self.groups[-1][1].append(row)


def _flag(value: str, where: str) -> int:
    word = value.strip().lower()
    if word in _TRUE_WORDS:
        return 1
    if word in _FALSE_WORDS:
        return 0
    raise _Reject(f"invalid value {value!r} in {where} (use true/false, yes/no or 1/0)")


def _number(value: str, where: str) -> int | float:
    if _INT.match(value):
        return int(value)
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise _Reject(f"invalid number {value!r} in {where} (e.g. 42 or 3.5)")
    return number


def _identity(normalize: Callable[[str, str], str]) -> Callable[[str, str], str | None]:
    def convert(value: str, where: str) -> str | None:
        if value == "":
            return None
        try:
            return normalize(value, f" in {where}")
        except ValueError as error:
            raise _Reject(str(error)) from None
    return convert


_IDENTITY_CONVERTERS = {
    "email": _identity(normalize_email), "phone": _identity(normalize_phone),
    "push_token": _identity(normalize_push_token),
}


def _list_names(value: str | list, where: str) -> list[str]:
    names = value.split(";") if isinstance(value, str) else value
    out: set[str] = set()
    for name in names:
        if not isinstance(name, str):
            raise _Reject(f"invalid list name {name!r} in {where} (list names are strings)")
        if name.strip():
            try:
                out.add(normalize_list_name(name, f" in {where}"))
            except ValueError as error:
                raise _Reject(str(error)) from None
    return sorted(out)


def _profile_id(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise _Reject("missing id")
    try:
        return normalize_profile_id(value.strip())
    except ValueError as error:
        raise _Reject(str(error)) from None


def _set_path(target: dict, parts: Sequence[str], value: Any, where: str) -> None:
    node = target
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise _Reject(f"{where} sets inside {part!r}, which already holds a value")
        node = child
    node[parts[-1]] = value


def _strip_nulls(value: dict) -> tuple[dict, bool]:
    """The attributes to store for a new profile (no nulls) and whether the patch held any null."""
    clean, had_null = {}, False
    for key, item in value.items():
        if item is None:
            had_null = True
        elif isinstance(item, dict):
            clean[key], nested = _strip_nulls(item)
            had_null = had_null or nested
        else:
            clean[key] = item
    return clean, had_null


def _attributes_json(attributes: dict, where: str = "attributes") -> str:
    try:
        text = _DUMPS(attributes)
    except ValueError as error:
        raise _Reject(f"invalid value in {where}: {error}") from None
    if len(text) > MAX_ATTRIBUTES_JSON:
        raise _Reject(f"attributes take {len(text)} characters; keep them under {MAX_ATTRIBUTES_JSON}")
    return text


# ---- CSV ----

@dataclass(frozen=True)
class CsvPlan:
    """What each column of a header feeds; built once per header, checked before anything is written."""

    width: int
    names: tuple[str, ...]
    id_index: int
    scalars: tuple[tuple[int, str, Callable[[str, str], Any], str], ...]
    attributes: tuple[tuple[int, tuple[str, ...], str, str], ...]
    lists_index: int | None
    columns: tuple[str, ...]
    _templates: dict = field(default_factory=dict, compare=False, repr=False)

    def template(self, present: tuple[bool, ...] | None) -> str:
        """Attributes JSON with ``%s`` per present column (all when None): cheaper than a dict per row."""
        template = self._templates.get(present)
        if template is None:
            paths = [a[1] for i, a in enumerate(self.attributes) if present is None or present[i]]
            template = self._templates[present] = _json_template(paths)
        return template


@lru_cache(maxsize=64)
def plan_csv(header: tuple[str, ...]) -> CsvPlan:
    errors: list[dict[str, str]] = []
    names = [h.strip() for h in header]
    id_index, lists_index = None, None
    scalars: dict[str, tuple] = {}
    attributes: list[tuple[int, tuple[str, ...], str, str]] = []

    def refuse(column: str, message: str) -> None:
        errors.append({"field": column or "(header)", "message": message})

    seen: set[str] = set()
    for index, name in enumerate(names):
        root, _, rest = name.partition(".")
        parts = name.count(".") + 1
        if not name:
            refuse(name, f"column {index + 1} has no name; name every column, e.g. id, timeZone, identities.email")
        elif name in seen:
            refuse(name, f"column {name!r} appears twice; keep one")
        elif parts > JSON_DEPTH:
            refuse(name, f"column {index + 1} ({_shortened(name)}) has {parts:,} dotted parts; attribute names "
                         f"nest at most {JSON_DEPTH} levels (e.g. person.name.firstName)")
        elif name == "id":
            id_index = index
        elif name == "lists":
            lists_index = index
        elif name == "suppressed":
            scalars["suppressed"] = (index, "suppressed", _flag, name)
        elif root == "identities":
            column = IDENTITY_COLUMNS.get(rest)
            if column is None:
                refuse(name, f"unknown channel {rest!r} in {name} (use email, phone or push_token)")
            elif column in scalars:
                refuse(name, f"{name} repeats the column of {scalars[column][3]}; keep one")
            else:
                scalars[column] = (index, column, _IDENTITY_CONVERTERS[column], name)
        elif root == "consent":
            column = CONSENT_COLUMNS.get(rest)
            if column is None:
                refuse(name, f"unknown channel {rest!r} in {name} (use email, sms or push)")
            else:
                scalars[column] = (index, column, _flag, name)
        else:
            path, _, kind = name.removeprefix("attributes.").partition(":")
            kind = kind or "string"
            if kind not in ATTRIBUTE_TYPES:
                refuse(name, f"unknown type {kind!r} in column {name!r} (use :number or :boolean, or nothing for text)")
            elif not ATTRIBUTE_PATH.match(path):
                refuse(name, f"invalid column name {name!r} (dotted names of letters, digits and _, "
                             "e.g. person.name.firstName)")
            elif path.split(".", 1)[0] in RESERVED_ROOTS:
                refuse(name, f"{path.split('.', 1)[0]!r} is a profile field, not an attribute; "
                             "use id, suppressed, lists, identities.<channel> or consent.<channel>")
            else:
                attributes.append((index, tuple(path.split(".")), kind, name))
        seen.add(name)
    paths = sorted((a[1], a[3]) for a in attributes)
    for (shorter, short_name), (longer, long_name) in zip(paths, paths[1:]):
        if longer[: len(shorter)] == shorter:
            refuse(long_name, f"column {long_name!r} goes inside {short_name!r}, which holds a value; keep one")
    if id_index is None and not any(e["field"] == "id" for e in errors):
        refuse("id", "the header has no 'id' column; name the column that identifies each profile 'id'")
    if errors or id_index is None:  # a missing id column is among the errors
        raise ValidationFailed("the CSV header cannot be imported: " + errors[0]["message"], errors=errors)
    ordered = tuple(scalars[c] for c in SCALAR_ORDER if c in scalars)
    columns = tuple(s[1] for s in ordered) + (("attributes",) if attributes else ())
    return CsvPlan(len(names), tuple(names), id_index, ordered, _grouped(attributes), lists_index, columns)


def _shortened(name: str, keep: int = 40) -> str:
    return repr(name if len(name) <= keep else name[:keep] + "…")


def _nest(leaves: Iterable[tuple[Sequence[str], Any]]) -> dict:
    """Dotted paths as a tree of dicts holding each leaf (plan_csv refuses a path inside another's value)."""
    tree: dict = {}
    for parts, leaf in leaves:
        node = tree
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = leaf
    return tree


def _leaves(tree: dict) -> Iterator[Any]:
    """The tree's leaves, depth first. Recursion is safe: plan_csv refuses a path of more than JSON_DEPTH parts."""
    for child in tree.values():
        if isinstance(child, dict):
            yield from _leaves(child)
        else:
            yield child


def _grouped(attributes: list[tuple]) -> tuple[tuple, ...]:
    """Attribute columns reordered so those sharing a parent are adjacent, the order of the JSON template."""
    return tuple(_leaves(_nest((a[1], a) for a in attributes)))


def _parse_csv(plan: CsvPlan, text: str, first_line: int) -> _Chunk:
    chunk = _Chunk()
    reader = csv.reader(io.StringIO(text), strict=True)  # strict: an unclosed quote is an error, not a swallow
    has_nul = "\0" in text
    start = 0
    record: list[str] | None
    reason: str | None
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            record, reason = None, f"unreadable CSV: {error} (check the quotes of this record)"
        else:
            reason = None
        line, end, start = first_line + start, first_line + reader.line_num - 1, reader.line_num
        if end > line and (record is None or len(record) != plan.width):
            _reject_swallowed(chunk.summary, line, end)
        elif reason is not None:
            chunk.summary.reject(line, reason)
        elif record:
            try:
                chunk.add(plan.columns, _csv_row(plan, record, chunk.lists, has_nul))
            except _Reject as error:
                chunk.summary.reject(line, str(error))
    return chunk


def _reject_swallowed(summary: ImportSummary, opened: int, end: int) -> None:
    """A quoted field that ran over line ends and broke the record: Python's csv joined those lines into
    one field, so each of them is reported, not only the first."""
    summary.reject(opened, f"unclosed quote opened on line {opened} swallowed lines {opened}–{end}; "
                           'close it with " (a quote inside a field is written "")')
    for line in range(opened + 1, end + 1):
        summary.reject(line, f"swallowed by the unclosed quote opened on line {opened}")


def _csv_row(plan: CsvPlan, record: list[str], lists: dict[str, list[str]], has_nul: bool) -> tuple:
    if len(record) != plan.width:
        raise _Reject(f"{len(record)} fields where the header has {plan.width} (check commas and quotes)")
    if has_nul:
        for name, cell in zip(plan.names, record):
            if "\0" in cell:
                raise _Reject(f"a NUL byte in column {_shortened(name)}; remove it (it is not text)")
    pid = _profile_id(record[plan.id_index])
    row = [pid]
    for index, _, convert, name in plan.scalars:
        row.append(convert(record[index].strip(), name))
    if plan.attributes:
        cells = [record[index].strip() for index, _, _, _ in plan.attributes]
        values = [_json_value(cell, kind, name) for cell, (_, _, kind, name) in zip(cells, plan.attributes)]
        patch = plan.template(None) % tuple(values)
        if "" in cells:
            present = tuple(cell != "" for cell in cells)
            text = plan.template(present) % tuple(v for v, keep in zip(values, present) if keep)
        else:
            text = patch
        if len(text) > MAX_ATTRIBUTES_JSON:
            raise _Reject(f"attributes take {len(text)} characters; keep them under {MAX_ATTRIBUTES_JSON}")
        row += (text, patch)
    if plan.lists_index is not None:
        lists[pid] = _list_names(record[plan.lists_index], "lists")
    return tuple(row)


def _json_value(cell: str, kind: str, where: str) -> str:
    """One CSV cell as JSON text; an empty cell is ``null``, which removes the attribute on update."""
    if cell == "":
        return "null"
    if kind == "string":
        return _encode_string(cell)
    if kind == "boolean":
        return "true" if _flag(cell, where) else "false"
    if _INT.match(cell):
        return cell
    return repr(_number(cell, where))


def _json_template(paths: Sequence[tuple[str, ...]]) -> str:
    """``{"person":{"name":{"firstName":%s}},…}`` for the given paths, placeholders in their order.

    Recursion is safe: plan_csv refuses a path of more than JSON_DEPTH parts.
    """
    def render(node: dict) -> str:
        return "{" + ",".join(
            f"{_encode_string(key)}:{'%s' if child is None else render(child)}" for key, child in node.items()
        ) + "}"

    return render(_nest((parts, None) for parts in paths))


# ---- JSON lines ----

def _parse_jsonl(text: str, first_line: int) -> _Chunk:
    chunk = _Chunk()
    for offset, raw in enumerate(text.split("\n")):  # not splitlines(): JSON strings may hold U+2028
        if not raw.strip():
            continue
        try:
            columns, row, names = _jsonl_row(raw)
        except _Reject as error:
            chunk.summary.reject(first_line + offset, str(error))
            continue
        chunk.add(columns, row)
        if names is not None:
            chunk.lists[row[0]] = names
    return chunk


def _jsonl_row(raw: str) -> tuple[tuple[str, ...], tuple, list[str] | None]:
    # Counting brackets is C-speed; only a line with that many can nest deeper than the limit.
    if raw.count("{") + raw.count("[") > JSON_DEPTH and too_deep(raw):
        raise _Reject(f"the record nests deeper than {JSON_DEPTH} levels; flatten it")
    try:
        record = json.loads(raw)
    except json.JSONDecodeError as error:
        raise _Reject(f"malformed JSON: {error.msg} at column {error.colno}") from None
    if not isinstance(record, dict):
        raise _Reject(f"expected one JSON object per line, found {type(record).__name__}")
    if "\\u0000" in raw:
        _refuse_nul(record)
    if "id" not in record:
        raise _Reject("missing id")
    scalars: dict[str, Any] = {}
    attributes: dict = {}
    names = None
    for key, value in record.items():
        root, _, rest = key.partition(".")
        if key == "id":
            pid = _profile_id(value)
        elif key in ("identities", "consent"):
            if not isinstance(value, dict):
                raise _Reject(f"{key} must be an object, e.g. {{\"email\": ...}}")
            for channel, item in value.items():
                _jsonl_channel(key, channel, item, scalars)
        elif root in ("identities", "consent") and rest:
            _jsonl_channel(root, rest, value, scalars)
        elif key == "suppressed":
            scalars["suppressed"] = _json_flag(value, key)
        elif key == "lists":
            if not isinstance(value, (str, list)):
                raise _Reject("lists must be a list of names or a string like \"vip;beta\"")
            names = _list_names(value, key)
        elif key == "attributes":
            if not isinstance(value, dict):
                raise _Reject("attributes must be an object")
            for name, item in value.items():
                if name in RESERVED_ROOTS:
                    raise _Reject(f"attribute {name!r} is a profile field; put it at the top level")
                _merge(attributes, name, item)
        else:
            path = key.removeprefix("attributes.")
            if path.count(".") >= JSON_DEPTH:
                raise _Reject(f"field {_shortened(key)} has {path.count('.') + 1:,} dotted parts; attribute names "
                              f"nest at most {JSON_DEPTH} levels (e.g. person.name.firstName)")
            if not ATTRIBUTE_PATH.match(path) or path.split(".", 1)[0] in RESERVED_ROOTS:
                raise _Reject(f"unknown field {key!r} (use id, attributes, identities, consent, suppressed, lists, "
                              "or a dotted attribute name like person.name.firstName)")
            parts = path.split(".")
            holder: dict = {}
            _set_path(holder, parts, value, key)
            _merge(attributes, parts[0], holder[parts[0]])
    columns = tuple(c for c in SCALAR_ORDER if c in scalars)
    row = [pid, *(scalars[c] for c in columns)]
    if attributes:
        patch_text = _attributes_json(attributes)
        clean, had_null = _strip_nulls(attributes)
        row += (_DUMPS(clean) if had_null else patch_text, patch_text)
        columns += ("attributes",)
    return columns, tuple(row), names


def _refuse_nul(record: dict) -> None:
    """Refuse a NUL character (written \\u0000) anywhere in a record, naming its top-level field."""
    for field_name, value in record.items():
        pending = [field_name, value]
        while pending:
            item = pending.pop()
            if isinstance(item, str):
                if "\0" in item:
                    raise _Reject(f"a NUL character (\\u0000) in {_shortened(field_name)}; remove it (it is not text)")
            elif isinstance(item, dict):
                pending.extend(item)
                pending.extend(item.values())
            elif isinstance(item, list):
                pending.extend(item)


def _merge(target: dict, key: str, value: Any) -> None:
    if isinstance(value, dict) and isinstance(target.get(key), dict):
        for name, item in value.items():
            _merge(target[key], name, item)
    else:
        target[key] = value


def _jsonl_channel(group: str, channel: str, value: Any, scalars: dict[str, Any]) -> None:
    where = f"{group}.{channel}"
    if group == "consent":
        column = CONSENT_COLUMNS.get(channel)
        if column is None:
            raise _Reject(f"unknown channel {channel!r} in {where} (use email, sms or push)")
        scalars[column] = _json_flag(value, where)
        return
    column = IDENTITY_COLUMNS.get(channel)
    if column is None:
        raise _Reject(f"unknown channel {channel!r} in {where} (use email, phone or push_token)")
    if value is not None and not isinstance(value, str):
        raise _Reject(f"{where} must be a string, not {json.dumps(value)}")
    scalars[column] = _IDENTITY_CONVERTERS[column]((value or "").strip(), where)


def _json_flag(value: Any, where: str) -> int:
    if isinstance(value, bool):
        return int(value)
    if value is None:
        return 0
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return _flag(str(value), where)
    raise _Reject(f"invalid value {json.dumps(value)} in {where} (use true or false)")
