"""The replica test (issue 14, item 5): its cluster, and where it runs.

``make test`` runs this folder once, as its own target (``make test-replica``, a prerequisite of ``test``). The
catch-all ``pytest tests`` of ``make test-pytest`` leaves it out, so that it does not run twice: it starts seven
servers and takes about a minute and a half. Name the folder (or a file in it) on the command line to run it:
``.venv-engine/bin/python -m pytest -q tests/replica tests/deploy``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.replica.replica_cluster import Cluster

HERE = Path(__file__).resolve().parent


def pytest_ignore_collect(collection_path: Path, config: pytest.Config):
    if collection_path.parent.resolve() != HERE or not collection_path.name.startswith("test_"):
        return None
    for arg in config.args:
        named = (config.invocation_params.dir / arg.split("::", 1)[0]).resolve()
        if named == HERE or HERE in named.parents:
            return None  # asked for by name: run
    return True


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with Cluster(tmp_path_factory.mktemp("replica")) as running:
        yield running
