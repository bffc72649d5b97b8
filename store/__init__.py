"""Everything that is not UI: models, the campaign store, profiles, lifecycle, API and client.

Nothing in this package imports Textual (tests/test_import_hygiene.py checks it).
"""

import sys

# httpx imports its own command line (httpx._main, which loads click, rich and pygments: a third of httpx's
# import time) only to offer `httpx.main`, and falls back to a stub when that import fails. No code here runs
# httpx's command line, so every process that loads the store (before httpx) skips it: a None entry in
# sys.modules makes that import fail. tests/test_cli_light.py checks httpx still works.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
