"""The catalogue's list rows are built from the stored text of each campaign without decoding it whole, and
say exactly what rows built from the whole document say."""

from __future__ import annotations

import pytest

from store.db.catalogue import Catalogue
from store.listing import ListRow

from .console_support import copy_workspace, frozen, seed_demo


@pytest.fixture
def demo(tmp_path):
    return copy_workspace(seed_demo(tmp_path / "demo", frozen()), tmp_path / "ws")


def test_rows_read_from_the_snapshot_text_equal_rows_of_the_whole_documents(demo):
    catalogue = Catalogue(demo)
    catalogue._db.storage.compact()  # every campaign in the snapshot, none in the journal
    catalogue.close()

    catalogue = Catalogue(demo)
    try:
        rows = {row.row["id"]: row for row in catalogue.campaign_rows()}
        held = dict(catalogue._db.storage.held("campaigns"))
        assert len(held) == len(rows) > 40 and all(isinstance(text, bytes) for text in held.values())  # none decoded
        whole = {doc["id"]: ListRow.of(doc) for doc in catalogue.campaign_documents()}
        assert rows.keys() == whole.keys()
        for campaign_id, row in rows.items():
            assert (row.row, row.facts, row.json) == (whole[campaign_id].row, whole[campaign_id].facts,
                                                      whole[campaign_id].json), campaign_id
        statuses = {row.row["status"] for row in rows.values()}
        assert {"Draft", "In review", "Live", "Scheduled", "Failed"} <= statuses  # every shape of document seen
    finally:
        catalogue.close()


def test_a_stored_text_that_does_not_fit_a_row_is_refused_for_a_whole_read():
    with pytest.raises(ValueError, match="name"):
        ListRow.of_json(b'{"id": "cmp-1", "type": "action"}')
