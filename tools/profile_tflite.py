"""Profile: where an exported detector's time goes, int8 beside fp32, op by op.

    python tools/profile_tflite.py RUN_DIR/best.keras [--calib DATA] [--threads 1] [--runs 50] [--rounds 3]

LiteRT's Python interpreter has no op profiler (that is the C++ `benchmark_model` tool, which no
pip package ships), so each op of the file is cut out into a one-op file of its own (its real
weights, quantization and shapes; its non-constant inputs made the file's inputs, filled with
random values of their type) and timed with XNNPACK as in deployment. Rounds interleave every op
of both formats, so a slow minute of the host touches all alike; medians. Both files are
converted here as `kerasdet export` converts them, before tensor names are dropped, so each op
is attributed to the Keras layer it came from and int8 and fp32 ops are paired by that name.

Printed: ms by op type and by part (`backbone`, `neck`, `head`: the Keras model; `tail`: the
uint8 input, box decoding and NMS, float in both files), the ops where int8 loses most, and the
sum of the one-op times beside the whole file's time (what fusing ops in one delegate saves).
"""
from __future__ import annotations

import argparse
import collections
import os
import statistics

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from timing import median_ms  # noqa: E402  (tools/timing.py)


def part_of(tensor_name: str, model_name: str) -> str:
    """Which part of the detector produced a tensor, from the name the converter kept."""
    scope, _, rest = tensor_name.partition("/")
    if not scope.startswith(model_name) or not rest:  # the converter may suffix the scope (_1)
        return "tail"
    layer = rest.split("/")[0]
    return next((part for part in ("backbone", "neck") if layer.startswith(part)), "head")


def ops(data: bytes, model_name: str) -> list[dict]:
    """Every op in graph order: index, op name, part, output type, output tensor name."""
    from tensorflow.lite.python import schema_py_generated as schema

    from kerasdet.tflite.flatbuffer import op_names, read_model
    types = {v: k for k, v in vars(schema.TensorType).items() if not k.startswith("_")}
    subgraph = read_model(data).subgraphs[0]
    rows = []
    for k, (name, op) in enumerate(zip(op_names(data), subgraph.operators)):
        tensor = subgraph.tensors[op.outputs[0]]
        rows.append({"index": k, "op": name, "part": part_of(tensor.name.decode(), model_name),
                     "type": types[tensor.type], "tensor": tensor.name.decode()})
    return rows


def one_op(data: bytes, k: int) -> bytes:
    """A file holding op `k` alone: its non-constant inputs are the file's inputs, its outputs the outputs."""
    from kerasdet.tflite.flatbuffer import read_model, write_model
    model = read_model(data)
    subgraph = model.subgraphs[0]
    op = subgraph.operators[k]
    constant = {i for i, t in enumerate(subgraph.tensors) if model.buffers[t.buffer].data is not None}
    subgraph.operators = [op]
    subgraph.inputs = np.array(list(dict.fromkeys(i for i in op.inputs if i >= 0 and i not in constant)), np.int32)
    subgraph.outputs = np.array(op.outputs, np.int32)
    model.signatureDefs = None  # it names the whole file's inputs and outputs
    return write_model(model, len(data))


def timer(data: bytes, threads: int, seed: int = 0):
    """invoke() of the file on inputs of its inputs' types and shapes: random values, but zeros for
    int32 / int64 (indices, as GATHER takes, must be in range)."""
    from ai_edge_litert.interpreter import Interpreter
    interpreter = Interpreter(model_content=data, num_threads=threads)
    interpreter.allocate_tensors()
    rng = np.random.default_rng(seed)
    for tensor in interpreter.get_input_details():
        dtype, shape = np.dtype(tensor["dtype"]), tensor["shape"]
        if dtype.kind in "iu":
            values = (np.zeros(shape) if dtype.itemsize > 1 else
                      rng.integers(np.iinfo(dtype).min, np.iinfo(dtype).max, shape, endpoint=True))
        else:
            values = rng.uniform(0, 1, shape)
        interpreter.set_tensor(tensor["index"], values.astype(dtype))
    return interpreter.invoke


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a .keras checkpoint")
    parser.add_argument("--calib", help="int8 calibration images (default: the training data in the model's card)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--top", type=int, default=12, help="how many of the ops where int8 loses most to list")
    args = parser.parse_args()

    from kerasdet.models.load import load_model
    from kerasdet.tflite.convert import calibration_data, convert, default_input_shape

    model, card = load_model(args.model)
    data = calibration_data(args.model, card, args.calib, "int8")
    shape, _ = default_input_shape(data, card.input_size)
    files = {fmt: convert(model, card, fmt, data, 100, shape) for fmt in ("int8", "fp32")}
    tables = {fmt: ops(flat, model.name) for fmt, flat in files.items()}
    timers = {(fmt, row["index"]): timer(one_op(files[fmt], row["index"]), args.threads)
              for fmt, rows in tables.items() for row in rows}
    timers.update({(fmt, "file"): timer(flat, args.threads) for fmt, flat in files.items()})
    times = collections.defaultdict(list)
    for _ in range(args.rounds):
        for key, run in timers.items():
            times[key].append(median_ms(run, args.runs, warmup=3))
    ms = {key: statistics.median(v) for key, v in times.items()}

    print(f"{args.model}: input {shape[1]}x{shape[0]}, {args.threads} thread(s), each op alone, "
          f"medians of {args.rounds} rounds of {args.runs} runs")
    for title, key in (("op", lambda r: r["op"] if r["part"] != "tail" else f"{r['op']} (tail)"),
                       ("part", lambda r: r["part"])):
        sums = {fmt: collections.Counter() for fmt in files}
        counts = collections.Counter()
        for fmt, rows in tables.items():
            for row in rows:
                sums[fmt][key(row)] += ms[fmt, row["index"]]
                counts[fmt, key(row)] += 1
        names = sorted(set(sums["int8"]) | set(sums["fp32"]), key=lambda n: -max(sums["int8"][n], sums["fp32"][n]))
        print(f"\n{title:<34}{'int8 ms':>9}{'n':>4}{'fp32 ms':>9}{'n':>4}{'int8/fp32':>10}")
        for name in names:
            a, b = sums["int8"][name], sums["fp32"][name]
            ratio = f"{a / b:10.2f}" if b > 0.005 and a > 0.005 else f"{'':>10}"
            print(f"{name:<34}{a:9.3f}{counts['int8', name]:4d}{b:9.3f}{counts['fp32', name]:4d}{ratio}")
    fp32_by_tensor = {row["tensor"]: ms["fp32", row["index"]] for row in tables["fp32"]}
    paired = [(ms["int8", row["index"]] - fp32_by_tensor[row["tensor"]], row) for row in tables["int8"]
              if row["tensor"] in fp32_by_tensor]
    print("\nwhere int8 loses most (int8 - fp32 ms, the same layer):")
    for extra, row in sorted(paired, key=lambda p: -p[0])[:args.top]:
        print(f"  {extra:+.3f}  {row['op']:<18} {ms['int8', row['index']]:.3f} vs "
              f"{fp32_by_tensor[row['tensor']]:.3f}  {row['tensor'].split(';')[0][:90]}")
    for fmt, rows in tables.items():
        print(f"{fmt}: {len(rows)} ops; their one-op times sum to {sum(ms[fmt, r['index']] for r in rows):.2f} ms, "
              f"the whole file takes {ms[fmt, 'file']:.2f} ms")


if __name__ == "__main__":
    main()
