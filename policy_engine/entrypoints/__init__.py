"""Floor 3, the ways in: the ``python -m policy_engine`` command line (the action server lives in ``actions/``)."""
