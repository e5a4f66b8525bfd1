"""Shared fixtures: tests/support/fixtures.py (real SQLite and PostgreSQL stores)."""

from tests.support.fixtures import *  # noqa: F401,F403
