"""mypy passes on store/ and console/ (configured in pyproject.toml's [tool.mypy]), so a wrong type fails the suite."""

from __future__ import annotations

from pathlib import Path

import pytest
from mypy import api

ROOT = Path(__file__).resolve().parent.parent


def test_mypy_passes_on_store_and_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # mypy reads pyproject.toml from the working directory
    report, errors, status = api.run(["--config-file", str(ROOT / "pyproject.toml")])  # cached in .mypy_cache
    assert status == 0, f"mypy found errors:\n{report}{errors}"
