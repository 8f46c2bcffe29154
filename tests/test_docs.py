"""Documentation keeps up with the code: every deployment setting is in the README, and the README
starts with a Quick start of exactly two commands."""

from __future__ import annotations

import re
from pathlib import Path

from monitor.settings import Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented():
    missing = [f"BHXH_{name.upper()}" for name in Settings.model_fields if f"`BHXH_{name.upper()}`" not in README]
    assert missing == []


def test_quick_start_has_exactly_two_commands():
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    commands = [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert len(commands) == 2
    assert commands[0].startswith("./dev.sh run") and commands[1].startswith("./dev.sh test")
    assert README.index("## Quick start") < README.index("## Configuration")
