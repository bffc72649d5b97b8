"""Everything that is not UI: models, the campaign store, profiles, lifecycle, API and client.

Nothing in this package imports Textual (tests/test_import_hygiene.py checks it).
"""
