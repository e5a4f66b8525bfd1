"""The all-MiniLM-L6-v2 encoder as an ONNX graph, written node by node from the checked weights (``minilm.py`` checks
the files, loads the weights and runs the graph; ``minilm.GRAPH_SHA256`` pins the bytes written here)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

LAYERS = 6
HEADS = 12
HIDDEN = 384
LAYER_NORM_EPS = 1e-12
OPSET = 17  # LayerNormalization is an ONNX operator from opset 17 on


def build_graph(weights: Mapping[str, np.ndarray]):
    """The encoder, pooling and normalisation as an ONNX model (``onnx.ModelProto``).

    Inputs ``input_ids`` (int64, batch x pieces) and ``attention_mask`` (float32, 1 for a real piece, 0 for padding);
    output ``embedding`` (float32, batch x 384, unit rows). Written node by node as BERT computes it (the layout of
    transformers' BertModel, which is what its ONNX export gives), so ONNX Runtime's graph optimiser recognises and
    fuses LayerNorm, GELU and the bias additions."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = {
        name: np.asarray(value, dtype=np.float32)
        for name, value in weights.items()
        if name != "embeddings.position_ids"
    }
    initializers: list[onnx.TensorProto] = []
    nodes: list[onnx.NodeProto] = []

    def const(name: str, value, dtype=np.float32) -> str:
        initializers.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def node(op: str, inputs: Sequence[str], output: str, **attrs) -> str:
        nodes.append(helper.make_node(op, list(inputs), [output], name=output, **attrs))
        return output

    def linear(x: str, prefix: str, out: str) -> str:
        # PyTorch's Linear keeps (out, in): transposed once here so the graph computes x @ W + b
        weight = const(prefix + ".weight", np.ascontiguousarray(w[prefix + ".weight"].T))
        bias = const(prefix + ".bias", w[prefix + ".bias"])
        return node("Add", [node("MatMul", [x, weight], out + "/matmul"), bias], out)

    def layer_norm(x: str, prefix: str, out: str) -> str:
        return node(
            "LayerNormalization",
            [x, const(prefix + ".weight", w[prefix + ".weight"]), const(prefix + ".bias", w[prefix + ".bias"])],
            out,
            axis=-1,
            epsilon=LAYER_NORM_EPS,
        )

    head = HIDDEN // HEADS
    split_heads = const("shape/split_heads", [0, 0, HEADS, head], np.int64)  # 0: keep that dimension
    merge_heads = const("shape/merge_heads", [0, 0, HIDDEN], np.int64)
    one, half = const("const/one", 1.0), const("const/half", 0.5)
    sqrt2 = const("const/sqrt2", np.sqrt(2.0))
    scale = const("const/scale", np.sqrt(head))

    # embeddings: word + position + token type (always type 0 here), then LayerNorm
    words = node(
        "Gather",
        [const("embeddings.word_embeddings.weight", w["embeddings.word_embeddings.weight"]), "input_ids"],
        "embeddings/words",
    )
    pieces = node(
        "Slice",
        [
            node("Shape", ["input_ids"], "embeddings/shape"),
            const("const/i1", [1], np.int64),
            const("const/i2", [2], np.int64),
        ],
        "embeddings/pieces",
    )
    positions = node(
        "Slice",
        [
            const("embeddings.position_embeddings.weight", w["embeddings.position_embeddings.weight"]),
            const("const/i0", [0], np.int64),
            pieces,
            const("const/axis0", [0], np.int64),
        ],
        "embeddings/positions",
    )
    token_type = const("embeddings.token_type_embeddings.weight[0]", w["embeddings.token_type_embeddings.weight"][0])
    x = node("Add", [node("Add", [words, positions], "embeddings/word_position"), token_type], "embeddings/sum")
    x = layer_norm(x, "embeddings.LayerNorm", "embeddings/out")

    # padded pieces get no attention (the reference adds float32's minimum; after exp() both are exactly 0)
    mask_bias = node(
        "Mul", [node("Sub", [one, "attention_mask"], "mask/inverted"), const("const/minus", -1e9)], "mask/bias_2d"
    )
    mask_bias = node("Unsqueeze", [mask_bias, const("const/axes12", [1, 2], np.int64)], "mask/bias")

    for i in range(LAYERS):
        p = f"encoder.layer.{i}."
        o = f"layer{i}/"

        def heads(name: str, perm: Sequence[int], x: str = x, p: str = p, o: str = o) -> str:
            projected = linear(x, p + f"attention.self.{name}", o + name)
            return node(
                "Transpose",
                [node("Reshape", [projected, split_heads], o + name + "/split")],
                o + name + "/heads",
                perm=list(perm),
            )

        q = heads("query", (0, 2, 1, 3))
        k = heads("key", (0, 2, 3, 1))
        v = heads("value", (0, 2, 1, 3))
        scores = node("Div", [node("MatMul", [q, k], o + "scores/raw"), scale], o + "scores/scaled")
        probs = node("Softmax", [node("Add", [scores, mask_bias], o + "scores/masked")], o + "probs", axis=-1)
        context = node(
            "Transpose", [node("MatMul", [probs, v], o + "context/heads")], o + "context/t", perm=[0, 2, 1, 3]
        )
        context = node("Reshape", [context, merge_heads], o + "context")
        attended = linear(context, p + "attention.output.dense", o + "attention_out")
        x = layer_norm(
            node("Add", [attended, x], o + "attention_residual"), p + "attention.output.LayerNorm", o + "attention_norm"
        )
        hidden = linear(x, p + "intermediate.dense", o + "intermediate")
        # GELU, erf form: x * 0.5 * (1 + erf(x / sqrt(2)))
        erf = node("Erf", [node("Div", [hidden, sqrt2], o + "gelu/div")], o + "gelu/erf")
        gelu = node(
            "Mul", [node("Mul", [hidden, node("Add", [erf, one], o + "gelu/add")], o + "gelu/mul"), half], o + "gelu"
        )
        down = linear(gelu, p + "output.dense", o + "output")
        x = layer_norm(node("Add", [down, x], o + "output_residual"), p + "output.LayerNorm", o + "out")

    # mean over the real pieces, then unit length (in opset 17 ReduceSum takes its axes as an input, ReduceL2 as an
    # attribute)
    mask3 = node("Unsqueeze", ["attention_mask", const("const/axes2", [2], np.int64)], "pool/mask")
    axis1 = const("const/axes1", [1], np.int64)
    summed = node("ReduceSum", [node("Mul", [x, mask3], "pool/masked"), axis1], "pool/sum", keepdims=0)
    counts = node("ReduceSum", [mask3, axis1], "pool/count", keepdims=0)
    pooled = node("Div", [summed, counts], "pool/mean")
    norm = node(
        "Max", [node("ReduceL2", [pooled], "pool/l2", axes=[1], keepdims=1), const("const/tiny", 1e-12)], "pool/norm"
    )
    node("Div", [pooled, norm], "embedding")

    graph = helper.make_graph(
        nodes,
        "all-MiniLM-L6-v2",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "pieces"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.FLOAT, ["batch", "pieces"]),
        ],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", HIDDEN])],
        initializers,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="nlu_components.minilm",
        producer_version="1",
    )
    model.ir_version = 8  # ONNX 1.10+; pinned so the bytes do not follow the onnx package's default
    return model


def graph_bytes(weights: Mapping[str, np.ndarray]) -> bytes:
    """The serialised graph: deterministic (the same weights and package versions give the same bytes)."""
    return build_graph(weights).SerializeToString(deterministic=True)
