"""The support store: SQLAlchemy 2.x models, engine/session factory, unit of work, migrations, import.

Nothing connects at import time; see ``db.make_engine``.
"""

from .db import (
    DEFAULT_DATABASE_URL,
    UnitOfWork,
    database_url,
    make_engine,
    make_session_factory,
    unit_of_work,
)
from .identity import NotVerified, Verification
from .import_values import ImportSummary
from .importer import ImportRejected, import_data
from .migrate import current_revision, head_revision, upgrade

# claims for purchases elsewhere and uploaded evidence (evidence_models.py): registered on Base.metadata with the rest
from . import evidence_models  # noqa: E402,F401  isort: skip

__all__ = [
    "DEFAULT_DATABASE_URL",
    "UnitOfWork",
    "database_url",
    "make_engine",
    "make_session_factory",
    "unit_of_work",
    "NotVerified",
    "Verification",
    "ImportRejected",
    "ImportSummary",
    "import_data",
    "current_revision",
    "head_revision",
    "upgrade",
]
