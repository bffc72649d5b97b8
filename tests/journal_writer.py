"""Kill-test helper: apply numbered changes to a JournalStorage store until killed.

``python tests/journal_writer.py DIR START [END]`` opens the store in DIR, applies
changes START+1 .. END (one TinyDB operation, hence one ``write``, each) and prints the
number of every change after it returned, i.e. after it is durable. Compaction
thresholds are tiny so that kills also land inside compactions.

``apply_change`` is deterministic given the state, so the test replays it on a
MemoryStorage TinyDB to know the state after exactly k changes. Documents get explicit
ids (the change number): TinyDB's cached next id differs after a restart.
"""

from __future__ import annotations

import random
import sys

from tinydb import TinyDB
from tinydb.operations import add
from tinydb.table import Document

TABLES = ("campaigns", "audiences", "scratch")
SMALL = {"compact_ratio": 0.2, "compact_min_bytes": 4096}


def apply_change(db: TinyDB, number: int) -> None:
    rnd = random.Random(number)
    table = db.table(TABLES[number % 3])
    ids = sorted(doc.doc_id for doc in table)
    kind = number % 10
    if number % 97 == 0:
        db.drop_table("scratch")
    elif number % 89 == 0:
        table.truncate()
    elif kind < 4 or not ids:
        table.insert(Document(_payload(rnd, number), doc_id=number))
    elif kind < 6:
        table.update({"status": rnd.choice(["draft", "ready", "sent"]), "rev": number},
                     doc_ids=[rnd.choice(ids)])
    elif kind == 6:
        table.update(add("tags", [f"t{number}"]), doc_ids=[rnd.choice(ids)])
    elif kind == 7:
        table.upsert(Document(_payload(rnd, number), doc_id=rnd.choice(ids + [number])))
    else:
        table.remove(doc_ids=rnd.sample(ids, min(len(ids), 2)))


def _payload(rnd: random.Random, number: int) -> dict:
    return {
        "name": f"campaign {number}",
        "tags": [f"tag{rnd.randrange(20)}"],
        "status": "draft",
        "versions": [{"n": n, "content": "x" * rnd.randrange(50, 400)} for n in range(rnd.randrange(1, 4))],
    }


def main(argv: list[str]) -> None:
    from store.db.table import JournalDB

    directory, start = argv[0], int(argv[1])
    end = int(argv[2]) if len(argv) > 2 else 1_000_000
    db = JournalDB(directory, **SMALL)
    for number in range(start + 1, end + 1):
        apply_change(db, number)
        sys.stdout.write(f"{number}\n")
        sys.stdout.flush()
    db.close()


if __name__ == "__main__":
    main(sys.argv[1:])
