"""Shared test helpers: PostgreSQL databases (``postgres``), migrated stores and services (``store``), fixtures."""
