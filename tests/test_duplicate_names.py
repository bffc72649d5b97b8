"""A duplicate is named NAME (copy), then NAME (copy 2), …; a copy of a copy counts on from the original's name."""

from __future__ import annotations

from store.limits import NAME_CHARS
from store.lifecycle import copy_name

from .test_cli import campaign_id, demo, demo_template, run_json  # noqa: F401  (fixtures)


def test_duplicates_count_up_and_never_stack(demo, capsys):
    original = campaign_id(capsys, "Win a trip contest")
    first = run_json(capsys, "duplicate", original)
    second = run_json(capsys, "duplicate", original)
    of_the_copy = run_json(capsys, "duplicate", first["id"])
    assert [first["name"], second["name"], of_the_copy["name"]] == [
        "Win a trip contest (copy)", "Win a trip contest (copy 2)", "Win a trip contest (copy 3)"]
    assert run_json(capsys, "show", of_the_copy["id"])["status"] == "Draft"


def test_a_name_at_the_limit_is_shortened_to_keep_its_suffix():
    name = "x" * NAME_CHARS
    assert copy_name(name, set()) == "x" * (NAME_CHARS - 7) + " (copy)"
    assert copy_name(name, {"x" * (NAME_CHARS - 7) + " (copy)"}) == "x" * (NAME_CHARS - 9) + " (copy 2)"
    assert copy_name("Sale (copy 2)", {"Sale (copy)"}) == "Sale (copy 2)"  # free again once renamed or deleted
    assert copy_name("Sale (copy) (copy)", {"Sale (copy)"}) == "Sale (copy 2)"  # stacked by an older version
