"""Alembic migrations of the support store; run them with ``python -m policy_engine migrate``."""
