"""The test suites as one package, ``tests``: every suite folder is a subpackage, so that a suite's helper modules
import by their full name (``from tests.dialogue.dialogue_client import Customer``) and pytest gives every test and
conftest module a unique name (rootdir-based ``prepend`` import: the repository root goes on ``sys.path``, nothing
else). The code under test is the installed project (pyproject.toml; ``make venvs``)."""
