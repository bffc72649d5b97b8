"""The HTTP API (FastAPI) over the lifecycle: the one path for the console, the CLI and external callers."""

from .app import create_app

__all__ = ["create_app"]
