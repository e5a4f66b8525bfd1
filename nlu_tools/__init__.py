"""Tools for the NLU data, without rasa (they run in either environment): ``nlu_yaml`` reads and writes Rasa 3 NLU
YAML (the benchmark, the measuring scripts and the tests read the data through it), ``bitext`` builds the Bitext
part of the training data and its held-out sets (``python scripts/build_bitext.py``)."""
