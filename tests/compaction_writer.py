"""Kill-test helper: a store whose background compactions keep running while it is updated.

``python -m tests.compaction_writer DIR`` fills DIR with ``DOCS`` documents (printing 0 once that is
durable), then applies updates 1, 2, ... for ever, printing each number once it is durable. Update
``k`` sets ``rev`` = k on document ``k % DOCS + 1``, so the state after k updates is known
(``expected_revs``). The journal limit is small, so a compaction is nearly always under way.
"""

from __future__ import annotations

import itertools
import sys

DOCS = 2000


def expected_revs(updates: int) -> dict[str, int]:
    revs = {str(n): 0 for n in range(1, DOCS + 1)}
    for k in range(max(0, updates - DOCS + 1), updates + 1):
        if k:
            revs[str(k % DOCS + 1)] = k
    return revs


def main(directory: str) -> None:
    from tinydb.table import Document

    from store.db.table import JournalDB

    db = JournalDB(directory, compact_ratio=0.02, compact_min_bytes=1 << 16)
    table = db.table("campaigns")
    if len(table) == 0:
        table.insert_multiple(Document({"rev": 0, "body": "x" * 2000}, doc_id=n) for n in range(1, DOCS + 1))
    print(0, flush=True)
    start = max(int(doc["rev"]) for doc in table.all())
    for number in itertools.count(start + 1):
        table.update({"rev": number}, doc_ids=[number % DOCS + 1])
        print(number, flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
