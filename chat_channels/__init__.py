"""Input/output channels of the Rasa server beyond Rasa's own (loaded by name from credentials.yml)."""
