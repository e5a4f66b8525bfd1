"""Floor 0, the policy as code: pure decisions over immutable facts, the policy file's model and figures.

Nothing here reads the clock, the database, the network or the environment; it never imports ``store``,
``service``, ``entrypoints``, rasa, rasa_sdk or ``actions`` (tests/policy_engine/test_engine_layers.py checks it).
"""
