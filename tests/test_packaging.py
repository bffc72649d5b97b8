"""What `pip install .` (not editable, as on a shared host's /opt) carries: every file the code reads at run time.

setuptools installs only .py files of a package unless pyproject.toml names the others as package data; an
editable install hides the omission (the console could not start from a regular install for lack of its
stylesheet)."""

from __future__ import annotations

import fnmatch
import tomllib

from .processes import ROOT


def test_every_file_of_the_packages_that_is_not_python_is_declared_package_data():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    data = [p for package in ("console", "store") for p in (ROOT / package).rglob("*")
            if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts]
    assert data, "the console's stylesheet at least"
    for path in data:
        package = path.parent.relative_to(ROOT).as_posix().replace("/", ".")
        assert any(fnmatch.fnmatch(path.name, pattern) for pattern in declared.get(package, [])), (
            f"{path.relative_to(ROOT)} is not package data: add it to [tool.setuptools.package-data] {package}")
