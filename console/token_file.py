"""The tokens `campaigns login` keeps, one per server URL, in a file only its owner may read.

A token is a password: the file is created 0600 in a 0700 directory and replaced atomically, a file others
could read is refused (not silently tightened: someone may already have read it), and a file that is not
what login writes is refused rather than overwritten.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path

from platformdirs import user_config_path

from store.errors import ValidationFailed


def token_file() -> Path:
    return user_config_path("campaigns") / "tokens.json"


def read_tokens(path: Path | None = None) -> dict[str, str]:
    """URL → token; empty when there is no file yet."""
    path = path or token_file()
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return {}
    if mode & 0o077:
        raise ValidationFailed(f"{path} may be read by other accounts (mode {stat.S_IMODE(mode):04o}): "
                               f"run `chmod 600 {path}` and, if others could have read it, ask for new tokens")
    try:
        tokens = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValidationFailed(f"{path} is not a token file `campaigns login` wrote ({error}); "
                               "fix it or delete it, then log in again") from None
    if not isinstance(tokens, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in tokens.items()):
        raise ValidationFailed(f"{path} is not a token file `campaigns login` wrote (expected a JSON object of "
                               "URL to token); fix it or delete it, then log in again")
    return tokens


def write_tokens(tokens: dict[str, str], path: Path | None = None) -> Path:
    """Replace the file with ``tokens`` (removed when empty): a reader sees the old file or the new, whole."""
    path = path or token_file()
    if not tokens:
        path.unlink(missing_ok=True)
        return path
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".tokens-", dir=path.parent)  # created 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(tokens, f, indent=2)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return path
