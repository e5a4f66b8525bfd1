"""The Rasa server's stores (.venv-rasa): the tracker store named in endpoints.yml."""
