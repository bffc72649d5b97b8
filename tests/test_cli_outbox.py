"""`campaigns outbox` reads like a log: the newest messages by default, `--limit`, `--since`, `--campaign`, and a
line on stderr when more matched than were shown."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from console.cli import main
from store.engine import outbox as outbox_module
from store.engine.outbox import Outbox
from store.models import Channel

from .test_cli import demo, demo_template, run  # noqa: F401  (fixtures)


def lines_of(demo, channel: str) -> list[dict]:
    return [json.loads(line) for line in (demo / "outbox" / f"{channel}.jsonl").read_text().splitlines()]


def printed(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]


def test_the_newest_fifty_by_default_and_a_line_saying_the_output_was_cut(demo, capsys):
    written = lines_of(demo, "email")
    assert len(written) > 50
    code, out, err = run(capsys, "outbox", "--channel", "email", "--json")
    assert code == 0 and printed(out) == written[-50:]
    assert f"showing the newest 50 of {len(written):,}; --limit N for more" in err
    code, out, err = run(capsys, "outbox", "--channel", "email", "--json", "--limit", str(len(written)))
    assert printed(out) == written and "showing" not in err  # nothing cut, nothing said


def test_limit_campaign_and_since_filter_the_newest(demo, capsys):
    written = lines_of(demo, "email")
    campaign = written[len(written) // 2]["campaignId"]
    theirs = [m for m in written if m["campaignId"] == campaign]
    code, out, err = run(capsys, "outbox", "--campaign", campaign, "--json", "--limit", "3")
    assert code == 0 and printed(out) == theirs[-3:]
    assert f"showing the newest 3 of {len(theirs):,}" in err
    times = sorted({m["sentAt"] for m in written})
    since = times[-2]  # the last two sending times of the email channel
    recent = [m for m in written if m["sentAt"] >= since]
    code, out, err = run(capsys, "outbox", "--channel", "email", "--json", "--since", since, "--limit", "10000")
    assert code == 0 and printed(out) == recent
    code, out, err = run(capsys, "outbox", "--channel", "email", "--since", "100d", "--json", "--limit", "10000")
    assert code == 0 and printed(out) == written  # a duration: the demo's nine days of history are all newer
    before = datetime.now(timezone.utc) - timedelta(days=1)
    code, out, err = run(capsys, "outbox", "--channel", "email", "--since", "1d", "--json", "--limit", "10000")
    after = datetime.now(timezone.utc) - timedelta(days=1)
    shown = printed(out)
    assert code == 0 and 0 < len(shown) < len(written)
    assert all(datetime.fromisoformat(m["sentAt"]) >= before for m in shown)
    assert all(m in shown for m in written if datetime.fromisoformat(m["sentAt"]) >= after)


@pytest.mark.parametrize("argv, says", [
    (["--limit", "0"], "'0' is not a number of messages from 1 to 10,000"),
    (["--limit", "ten"], "'ten' is not a number of messages from 1 to 10,000"),
    (["--since", "yesterday"], "'yesterday' is neither a duration (10m, 2h, 1d) nor a time"),
])
def test_bad_limit_or_since_is_one_clear_line(capsys, argv, says):
    with pytest.raises(SystemExit) as exit:
        main(["outbox", *argv])
    assert exit.value.code == 2 and says in capsys.readouterr().err


def test_newest_reads_whole_lines_from_the_end_across_chunks(tmp_path, monkeypatch):
    """A file longer than the chunk read at a time, ending in a line a killed sender tore."""
    monkeypatch.setattr(outbox_module, "_CHUNK", 64)
    box = Outbox(tmp_path)
    lines = [json.dumps({"campaignId": f"cmp-{n % 2}", "sentAt": f"2025-03-01T09:00:{n:02d}+00:00", "n": n},
                        separators=(",", ":")).encode() + b"\n" for n in range(30)]
    box.append(Channel.sms, lines)
    with open(box.path(Channel.sms), "ab") as f:
        f.write(b'{"campaignId":"cmp-1","sentAt":"2025-03-01T09:')  # torn: no newline
    messages, total, ends = box.newest(limit=4)
    assert [m["n"] for m in messages] == [26, 27, 28, 29] and total == 30
    assert ends[Channel.sms] == sum(map(len, lines))  # following resumes after the last whole line
    messages, total, _ = box.newest(limit=2, campaign_id="cmp-0")
    assert [m["n"] for m in messages] == [26, 28] and total == 15
