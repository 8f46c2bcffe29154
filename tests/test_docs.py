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


def _keys(model, prefix=""):
    from pydantic import BaseModel

    for name, field in model.model_fields.items():
        annotation = field.annotation
        inner = getattr(annotation, "__args__", (annotation,))
        nested = next((t for t in inner if isinstance(t, type) and issubclass(t, BaseModel)), None)
        if nested is not None:
            list_like = getattr(annotation, "__origin__", None) is list
            yield from _keys(nested, f"{prefix}{name}{'[]' if list_like else ''}.")
        else:
            yield f"{prefix}{name}"


def test_every_feeds_yaml_key_is_documented():
    from monitor.config import FeedsConfig

    reference = README.split("### feeds.yaml reference", 1)[1].split("\n### ", 1)[0]
    missing = []
    for key in _keys(FeedsConfig):
        head, _, last = key.rpartition(".")
        # "campaigns[].name", ".start" may share one row: accept the key or its last part after the prefix.
        if f"`{key}`" not in reference and not (head and f"`{head}." in reference and f".{last}`" in reference):
            missing.append(key)
    assert missing == []
