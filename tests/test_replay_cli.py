"""`bhxh-monitor replay`: reads JSON Lines (gzip too, `summary`/`link` or `snippet`/`url`), writes the
tickets contract with --json, and names the file and line of bad input."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from alerts.replay import read_stream, to_entry
from crisis_streams import DEBT_BURST, START, burst, calm
from monitor.cli import cli
from monitor.errors import InputError


def test_replay_command_writes_the_ticket_contract(tmp_path: Path):
    pytest.importorskip("classifiers.model")
    if not (Path(__file__).parent.parent / "classifiers" / "artifacts" / "model.skops").exists():
        pytest.skip("no shipped classifier artifact")
    records = calm(days=3) + burst(DEBT_BURST, START + timedelta(days=2), 60_000)
    for r in records[::2]:  # the shared stream's key names
        r["summary"], r["link"] = r.pop("snippet"), r.pop("url")
    stream = tmp_path / "stream.jsonl.gz"
    with gzip.open(stream, "wt", encoding="utf-8") as handle:
        handle.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    out = tmp_path / "tickets.json"
    result = CliRunner().invoke(cli, ["replay", str(stream), "--database", f"sqlite:///{tmp_path / 'r.db'}",
                                      "--json", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    tickets = json.loads(out.read_text(encoding="utf-8"))
    assert len(tickets) == 1
    assert set(tickets[0]) == {"id", "opened_at", "severity", "category", "stage", "title", "item_ids", "steps"}
    assert tickets[0]["stage"] == "new" and tickets[0]["steps"]
    assert "1 tickets" in result.output


def test_bad_stream_lines_name_file_line_and_field(tmp_path: Path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "a"}\nnot json\n', encoding="utf-8")
    with pytest.raises(InputError, match=rf"replay: {path}:2: invalid JSON"):
        list(read_stream(path))
    with pytest.raises(InputError, match="record 1: missing field 'source'"):
        to_entry({"id": "a", "title": "x", "published": "2025-09-01T08:00:00+07:00"}, "record 1")
    with pytest.raises(InputError, match="no UTC offset"):
        to_entry({"id": "a", "source": "s", "title": "x", "published": "2025-09-01T08:00:00"}, "record 1")
