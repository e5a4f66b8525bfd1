# The action server and the policy engine: rasa-sdk 3.6.2 (Ubuntu 22.04, Python 3.10 in /opt/venv, user 1001) with
# requirements/engine.txt (the run-time packages; rasa-sdk==3.6.2 is the image's own) and the project's code.
# Build from the repository root:
#     docker build -f deploy/docker/actions.Dockerfile -t support/actions:1.0.0 .
# Runs `python -m actions.server` (deploy/docker/actions-entrypoint.sh); `policy_engine <command>` runs the engine's
# CLI instead (the migrations: `policy_engine migrate`).
FROM rasa/rasa-sdk:3.6.2

USER root
COPY requirements/engine.txt /tmp/requirements/engine.txt
# tzdata: the IANA zones for zoneinfo (policy.yml's time zones); the base image has no system zone database
RUN pip install --no-cache-dir -r /tmp/requirements/engine.txt "tzdata>=2024.1" \
 && rm -rf /tmp/requirements

WORKDIR /app
COPY policy/ policy/
COPY schemas/ schemas/
COPY policy_engine/ policy_engine/
COPY actions/ actions/
# the log masking of chat_channels/privacy.py (actions/server.py installs it when it can import it)
COPY chat_channels/__init__.py chat_channels/privacy.py chat_channels/
COPY deploy/docker/actions-entrypoint.sh /usr/local/bin/support-actions
RUN chmod 0755 /usr/local/bin/support-actions \
 && install -d -o 1001 -g 0 -m 0770 /var/lib/support/uploads \
 && chgrp -R 0 /app && chmod -R g=u /app

ENV PYTHONPATH=/app \
    SANIC_HOST=0.0.0.0 \
    PYTHONUNBUFFERED=1
USER 1001
EXPOSE 5055
ENTRYPOINT ["/usr/local/bin/support-actions"]
