"""Where workspaces live by default: a per-user data directory."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_data_path


def default_data_dir() -> Path:
    return Path(os.environ.get("CAMPAIGNS_DATA") or user_data_path("campaigns") / "workspace")


def default_demo_dir() -> Path:
    return user_data_path("campaigns") / "demo"
