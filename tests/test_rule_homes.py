"""Each rule has one home: who may do what is decided in the lifecycle and the administration, never by an
API module (which would let two doors to the same change disagree)."""

from __future__ import annotations

import ast
from pathlib import Path

API = Path(__file__).resolve().parent.parent / "store" / "api"


def test_no_api_module_checks_a_role_itself() -> None:
    offenders = []
    for path in sorted(API.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.endswith("roles"):
                names = {alias.name for alias in node.names}
                if names & {"require", "Action"}:
                    offenders.append(f"{path.name}:{node.lineno} imports {sorted(names)} from {node.module}")
    assert not offenders, "role checks belong in store/lifecycle.py or store/administration.py:\n" + "\n".join(offenders)
