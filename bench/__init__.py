"""``make bench``: understanding, conversations, serving, engine and training, the project's configuration side by
side with Rasa's default one. Entry point: ``python -m bench`` (bench/run.py); how each figure is measured:
docs/bench.md."""
