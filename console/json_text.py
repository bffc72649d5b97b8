"""JSON as every command prints it, for scripts (console/output.py) and people (console/terminal.py) alike."""

from __future__ import annotations

import json
from typing import Any

from store.text import json_escaped


def dumps(value: Any, indent: int | str | None = 2) -> str:
    """Non-ASCII kept; control and bidirectional characters escaped (``store.text.json_escaped``)."""
    return json_escaped(json.dumps(value, indent=indent, ensure_ascii=False, default=str))
