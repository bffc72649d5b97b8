"""JSON documents people write: read from a file, or edited in $EDITOR, with one-line errors naming the spot.

Shared by every command that takes a document (`create`, `edit`, `trigger --context @FILE`, `policies`).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import tempfile
from pathlib import Path

from store.errors import ValidationFailed
from store.limits import too_deep


def read_document(path: Path) -> object:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ValidationFailed(f"no file {path}") from None
    except OSError as e:
        raise ValidationFailed(f"cannot read {path}: {e.strerror or e}") from None
    return parse_document(data, str(path))


def parse_document(data: bytes, where: str) -> object:
    """JSON from a person's file: not UTF-8, too deep or malformed gets one line naming the spot."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise ValidationFailed(f"{where} is not UTF-8 text (byte 0x{data[e.start]:02x} on line {line}); "
                               "save it as UTF-8 and try again") from None
    reason = too_deep(data)
    if reason:
        raise ValidationFailed(f"{where}: {reason}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ValidationFailed(f"{where} is not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}") from None


def run_editor(document: dict, name: str) -> Path | None:
    """The document in $EDITOR; the edited file, or None (and no file) when nothing changed."""
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    original = (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()
    fd, path_name = tempfile.mkstemp(prefix=f"campaigns-{name}-", suffix=".json")
    with os.fdopen(fd, "wb") as f:
        f.write(original)
    if subprocess.call([*shlex.split(editor), path_name]) != 0:
        raise ValidationFailed(f"the editor {editor!r} exited with an error; your file is kept at {path_name}")
    path = Path(path_name)
    if path.read_bytes() == original:
        path.unlink()
        return None
    return path
