"""store/ never imports Textual: the engine must run headless and behind `campaigns serve`."""

from __future__ import annotations

import subprocess
import sys


def test_store_does_not_import_textual():
    code = ("import sys, store.embedded, store.demo, store.client, store.api; "
            "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')); "
            "print(','.join(bad)); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, f"store imported: {result.stdout} {result.stderr}"
