"""Floor 1: the rasa-sdk action server.  Thin adapters: slots -> one SupportService call -> a response by name.

One module per conversation topic; ``base.py`` holds the form-validation base class, ``service.py`` the lazily built
process-wide ``SupportService`` and ``replies.py`` the decision -> response helpers.  No customer-facing text and no
policy ``if`` lives here: the wording is in ``domain.yml`` and the policy in ``policy_engine/``.
"""
