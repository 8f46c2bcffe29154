"""Reading the YAML files officers edit (feeds.yaml, rumours.yaml, playbooks.yaml) with errors that
name the file and line, prefixed by the module that asked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from monitor.errors import ConfigError


def read_yaml(path: Path, owner: str) -> tuple[Any, str]:
    """(parsed data, text) of ``path``; ConfigError "owner: file:line: invalid YAML: ..." otherwise."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{owner}: cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{owner}: {path}: not UTF-8 text (byte {exc.start})") from exc
    try:
        return yaml.safe_load(text), text
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(f"{owner}: {where}: invalid YAML: {getattr(exc, 'problem', None) or exc}") from exc
