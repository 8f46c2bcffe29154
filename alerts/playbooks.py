"""Playbooks: the suggested response steps per crisis category and phase (alerts/playbooks.yaml).

The YAML maps a category (or ``default``) to phases ``prevent``, ``handle``, ``recover``, each a
list of Vietnamese steps. A category without a phase of its own uses the ``default`` steps for it.
"""

from __future__ import annotations

import functools
from pathlib import Path


from monitor.config import CATEGORIES
from monitor.errors import ConfigError
from monitor.yamlfile import read_yaml

DEFAULT_PATH = Path(__file__).resolve().parent / "playbooks.yaml"
PHASES = ("prevent", "handle", "recover")
# Ticket state -> playbook phase (forecast/prevent, handle, rebuild trust).
STATE_PHASE = {
    "new": "prevent",
    "acknowledged": "prevent",
    "responding": "handle",
    "monitoring": "recover",
    "closed": "recover",
}

Playbooks = dict[str, dict[str, list[str]]]


def load_playbooks(path: str | Path | None = None) -> Playbooks:
    """Read and check a playbook file; errors name the file and the bad key."""
    path = Path(path) if path else DEFAULT_PATH
    data = read_yaml(path, "playbooks")[0] or {}
    if not isinstance(data, dict):
        raise ConfigError(f"playbooks: {path}: the top level must map categories to phases")
    playbooks: Playbooks = {}
    for category, phases in data.items():
        if category != "default" and category not in CATEGORIES:
            raise ConfigError(f"playbooks: {path}: unknown category {category!r}")
        if not isinstance(phases, dict):
            raise ConfigError(f"playbooks: {path}: {category}: must map phases to lists of steps")
        for phase, steps in phases.items():
            if phase not in PHASES:
                raise ConfigError(f"playbooks: {path}: {category}.{phase}: unknown phase (use {', '.join(PHASES)})")
            if not isinstance(steps, list) or not all(isinstance(s, str) and s.strip() for s in steps):
                raise ConfigError(f"playbooks: {path}: {category}.{phase}: must be a list of non-empty texts")
        playbooks[str(category)] = {p: [s.strip() for s in phases.get(p) or []] for p in PHASES if p in phases}
    return playbooks


@functools.lru_cache(maxsize=8)
def _load_at(path: str, mtime_ns: int) -> Playbooks:
    return load_playbooks(path)


def _cached(path: str | Path | None = None) -> Playbooks:
    """``load_playbooks`` once per file version (the pipeline asks on every run)."""
    path = Path(path) if path else DEFAULT_PATH
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        mtime = -1  # load_playbooks raises the error naming the file
    return _load_at(str(path), mtime)


cached_playbooks = _cached


def steps_for(category: str | None, stage: str, playbooks: Playbooks | None = None) -> list[str]:
    """The steps for ``category`` in ``stage`` (a phase, or a ticket state mapped to its phase)."""
    phase = STATE_PHASE.get(stage, stage)
    if phase not in PHASES:
        raise ValueError(f"playbooks: unknown stage {stage!r}")
    book = playbooks if playbooks is not None else _cached()
    own = book.get(category or "", {})
    if phase in own:
        return list(own[phase])
    return list(book.get("default", {}).get(phase, []))


def checklist(category: str | None, playbooks: Playbooks | None = None, *, extra: dict[str, list[str]] | None = None) -> list[dict]:
    """A ticket's checklist: every phase's steps in order, ``extra`` steps (e.g. a rumour's official
    correction) first within their phase. Items are ``{"stage", "text", "done", "done_by", "done_at"}``."""
    items: list[dict] = []
    for phase in PHASES:
        for text in list((extra or {}).get(phase, [])) + steps_for(category, phase, playbooks):
            items.append({"stage": phase, "text": text, "done": False, "done_by": None, "done_at": None})
    return items
