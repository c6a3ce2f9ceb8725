"""Export to .tflite on an untrained model: int8 where it counts, compaction changes no output,
bad files are clear errors. (Builtin ops, the card and Keras/TFLite agreement for every
architecture: test_architectures.py; accuracy of a trained model: tests/integration/.)"""
import numpy as np
import pytest

from conftest import UNTRAINED_CALIB_COUNT, UNTRAINED_SIZE
from kerasdet.data import load_dataset
from kerasdet.data.images import read_rgb
from kerasdet.eval.evaluate import evaluate
from kerasdet.models.common.backbones import PREPROCESS_LAYER
from kerasdet.models.load import load_model


def test_int8_is_integer_where_it_counts(untrained_tflite):
    from ai_edge_litert.interpreter import Interpreter
    interpreter = Interpreter(model_path=str(untrained_tflite["int8"]))
    feature_maps = [t for t in interpreter.get_tensor_details() if len(t["shape"]) == 4]
    int8_maps = [t for t in feature_maps if t["dtype"] == np.int8]
    assert len(int8_maps) > 0.95 * len(feature_maps)  # convolutions and their activations
    assert untrained_tflite["int8"].stat().st_size < 0.5 * untrained_tflite["fp32"].stat().st_size


def test_the_int8_network_sees_every_level_of_the_image(untrained_tflite, demo_data):
    """The input normalization stays float, so the first int8 tensor keeps the pixel levels the
    calibration images span: normalized in int8, its multiply's scale merged a third of them (171
    of 256 here). Each level lands half a step between two int8 values, so float rounding still
    joins a few neighbours (239 of 256 here)."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    from kerasdet.tflite.convert import calibration_images
    interpreter = Interpreter(model_path=str(untrained_tflite["int8"]), experimental_preserve_all_tensors=True,
                              experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interpreter.allocate_tensors()
    image = interpreter.get_input_details()[0]
    _, height, width, _ = image["shape"]
    calibrated = calibration_images(demo_data, (height, width), UNTRAINED_CALIB_COUNT)  # the fixture's images
    seen = np.concatenate([batch[0].ravel() for batch in calibrated])
    low, high = int(seen.min()), int(seen.max())
    levels = low + np.arange(height * width * 3) % (high - low + 1)
    interpreter.set_tensor(image["index"], levels.reshape(1, height, width, 3).astype(np.uint8))
    interpreter.invoke()
    first_conv = next(op for op in interpreter._get_ops_details() if op["op_name"] == "CONV_2D")
    network_input = interpreter.get_tensor(first_conv["inputs"][0])
    assert network_input.dtype == np.int8
    assert high - low > 100
    assert len(np.unique(network_input)) >= 0.9 * (high - low + 1)


def test_bad_tflite_file_is_a_clear_error(tmp_path, demo_data):
    bad = tmp_path / "model.tflite"
    bad.write_bytes(b"this is not a flatbuffer")
    with pytest.raises(ValueError, match="model.tflite: not a TFLite model"):
        evaluate(bad, demo_data)


def test_compacting_the_flatbuffer_changes_no_output(untrained, demo_data):
    if untrained.card.arch != "yolov8":
        pytest.skip("compaction rewrites the flatbuffer whatever the architecture: one is enough")
    from ai_edge_litert.interpreter import Interpreter
    from kerasdet.core.letterbox import letterbox
    from kerasdet.tflite.convert import convert
    from kerasdet.tflite.flatbuffer import compact_flatbuffer

    raw = convert(*load_model(untrained.path), "fp32")
    small = compact_flatbuffer(raw)
    assert len(small) < len(raw)
    images = [letterbox(read_rgb(r.image_path), UNTRAINED_SIZE)[0] for r in load_dataset(demo_data).records[:4]]

    def outputs(content):
        interpreter = Interpreter(model_content=content)
        interpreter.allocate_tensors()
        results = []
        for image in images:
            interpreter.set_tensor(interpreter.get_input_details()[0]["index"], image[None])
            interpreter.invoke()
            results.append([interpreter.get_tensor(d["index"]).copy() for d in interpreter.get_output_details()])
        return results, [d["name"] for d in interpreter.get_output_details()]

    (before, names_before), (after, names_after) = outputs(raw), outputs(small)
    assert names_before == names_after
    for a, b in zip(before, after):
        assert all(np.array_equal(x, y) for x, y in zip(a, b))

@pytest.mark.parametrize("untrained", ["yolov8"], indirect=True)  # calibration data, not architectures
def test_int8_calibration_takes_plain_images_and_says_so_when_data_moved(untrained, tmp_path):
    import dataclasses

    from conftest import write_image
    from kerasdet.models.load import save_model
    from kerasdet.tflite.convert import calibration_images, export
    (tmp_path / "photos").mkdir()
    for k in range(3):  # photos without any XML are as good for calibration
        write_image(tmp_path / "photos" / f"p{k}.jpg")
    batches = list(calibration_images(tmp_path / "photos", UNTRAINED_SIZE, count=5))
    assert len(batches) == 3 and batches[0][0].shape == (1, UNTRAINED_SIZE, UNTRAINED_SIZE, 3)
    # a model whose training data is not on this machine: the error names it and --calib
    model, card = load_model(untrained.path)
    moved = tmp_path / "moved.keras"
    save_model(model, dataclasses.replace(card, training_data={"train": "/elsewhere/train.txt"}), moved)
    with pytest.raises(ValueError, match=r"trained on /elsewhere/train\.txt, which is not here: pass --calib"):
        export(moved, "int8", out=tmp_path / "m.tflite")
    # a --calib that is not there is named as such, not as the training data
    for fmt in ("int8", "fp32"):
        with pytest.raises(ValueError, match=r"--calib .*nowhere: no such file or folder"):
            export(moved, fmt, calib=tmp_path / "nowhere", out=tmp_path / "m.tflite")


def test_export_names_what_is_wrong_with_its_input(tmp_path, untrained_tflite):
    from kerasdet.tflite.convert import export
    (tmp_path / "bad.keras").write_text("garbage")
    with pytest.raises(ValueError, match=r"bad\.keras: not a kerasdet model file"):
        export(tmp_path / "bad.keras", "fp32")
    with pytest.raises(ValueError, match=r"expected a \.keras checkpoint .*; this is an exported \.tflite already"):
        export(untrained_tflite["fp32"], "fp32")


@pytest.mark.parametrize("untrained", ["yolov8"], indirect=True)  # the file's layout, not architectures
def test_the_file_carries_what_mediapipe_reads(untrained, untrained_tflite):
    """MediaPipe Tasks' ObjectDetector finds the outputs by the metadata's names in the flatbuffer's
    order, all float32, `number of detections` of rank 1 (rank 2 fails its RET_CHECK), box corners
    by the metadata's index, and class names in the label file the metadata names."""
    import zipfile

    from ai_edge_litert.interpreter import Interpreter
    from kerasdet.core.tflite_outputs import OUTPUT_NAMES
    from kerasdet.tflite.vendored import metadata_schema_py_generated as md
    from kerasdet.tflite.flatbuffer import read_metadata_entry
    from kerasdet.tflite.metadata import BOX_INDEX, METADATA_NAME, read_metadata
    path = untrained_tflite["int8"]
    outputs = Interpreter(model_path=str(path)).get_output_details()
    assert [d["name"] for d in outputs] == list(OUTPUT_NAMES)
    assert [len(d["shape"]) for d in outputs] == [3, 2, 2, 1] and all(d["dtype"] == np.float32 for d in outputs)
    subgraph = read_metadata(read_metadata_entry(path.read_bytes(), METADATA_NAME)).subgraphMetadata[0]
    assert [t.name.decode() for t in subgraph.outputTensorMetadata] == list(OUTPUT_NAMES)
    box = subgraph.outputTensorMetadata[0].content.contentProperties
    assert box.index.tolist() == list(BOX_INDEX) and box.coordinateType == md.CoordinateType.RATIO
    (labels,) = subgraph.outputTensorMetadata[1].associatedFiles
    assert labels.type == md.AssociatedFileType.TENSOR_VALUE_LABELS
    with zipfile.ZipFile(path) as z:
        assert z.read(labels.name.decode()).decode().split() == untrained.card.class_names


@pytest.mark.parametrize("untrained", ["yolov8"], indirect=True)
def test_an_input_shaped_like_the_frames_sees_what_the_letterbox_gives(untrained, untrained_tflite, demo_data,
                                                                       tmp_path):
    """By default the input takes the training images' shape (4:3 here) and the graph pads it to the
    square: a runtime that stretches a 4:3 frame to it (MediaPipe) feeds the network exactly what
    kerasdet's square letterbox feeds, so the two files detect the same on those frames."""
    from kerasdet.runtime.tflite_detector import TFLiteDetector
    from kerasdet.tflite.convert import export
    framed = TFLiteDetector(untrained_tflite["fp32"], num_threads=1)
    images = [read_rgb(r.image_path) for r in load_dataset(demo_data).records[:3]]
    h, w = images[0].shape[:2]
    assert framed.input_shape == (round(UNTRAINED_SIZE * h / w), UNTRAINED_SIZE) != (UNTRAINED_SIZE,) * 2
    square_path = export(untrained.path, "fp32", out=tmp_path / "square.tflite",
                         input_shape=(UNTRAINED_SIZE, UNTRAINED_SIZE))
    square = TFLiteDetector(square_path, num_threads=1)
    for image in images:
        a, b = framed.detect(image), square.detect(image)
        np.testing.assert_allclose(a.boxes, b.boxes, atol=1e-3)
        assert np.array_equal(a.classes, b.classes) and np.allclose(a.scores, b.scores, atol=1e-6)
    # the same model exports to the same bytes (the appended zip has fixed dates)
    again = export(untrained.path, "fp32", out=tmp_path / "again.tflite", input_shape=(UNTRAINED_SIZE,) * 2)
    assert again.read_bytes() == square_path.read_bytes()
    with pytest.raises(ValueError, match=r"--input-shape 64x80: the model's input is 64x64; the shape must fit inside it"):
        export(untrained.path, "fp32", out=tmp_path / "bad.tflite", input_shape=(80, 64))


@pytest.mark.parametrize("untrained", ["yolov8"], indirect=True)
def test_inspect_shows_the_card_io_and_metadata_and_old_files_are_told_to_reexport(untrained, untrained_tflite,
                                                                                    tmp_path):
    from kerasdet.runtime.tflite_detector import TFLiteDetector
    from kerasdet.tflite.convert import attach_card, convert
    from kerasdet.tflite.inspect import describe
    text = describe(untrained_tflite["int8"])
    height = TFLiteDetector(untrained_tflite["int8"]).input_shape[0]
    assert f"input:  'image' [1, {height}, {UNTRAINED_SIZE}, 3] uint8" in text
    assert "classes: heart, star" in text and "TFLite Model Metadata: 'kerasdet yolov8'" in text
    # outputs not named as kerasdet names them (files exported before this layout): a clear error
    unnamed = tmp_path / "old.tflite"
    unnamed.write_bytes(attach_card(convert(*load_model(untrained.path), "fp32"), untrained.card))
    with pytest.raises(ValueError, match=r"old\.tflite: outputs .* are not a kerasdet detector's .* Export it again"):
        TFLiteDetector(unnamed)
    assert "TFLite Model Metadata: none" in describe(unnamed)


def test_the_profiler_cuts_every_op_into_a_file_that_runs_alone(untrained, demo_data, monkeypatch):
    """tools/profile_tflite.py times each op of an export alone: every cut holds that op only, runs,
    and each op is attributed to the part of the detector it came from. (One architecture, one op of
    each kind: the cutting knows nothing of either.)"""
    if untrained.card.arch != "yolov8":
        pytest.skip("the profiler's cuts do not depend on the architecture")

    from conftest import TOOLS, load_tool
    from kerasdet.tflite.convert import convert
    from kerasdet.tflite.flatbuffer import op_names
    monkeypatch.syspath_prepend(str(TOOLS))  # the tool imports tools/timing.py
    tool = load_tool("profile_tflite")
    model, card = load_model(untrained.path)
    flatbuffer = convert(model, card, "int8", demo_data, 8)
    rows = tool.ops(flatbuffer, model.name)
    assert [r["op"] for r in rows] == op_names(flatbuffer)
    assert {r["part"] for r in rows} == {"backbone", "neck", "head", "tail"}
    assert rows[-1]["part"] == "tail" and any(r["op"] == "NON_MAX_SUPPRESSION_V4" for r in rows)
    backbone = [r for r in rows if r["part"] == "backbone"]
    normalization = [r for r in backbone if f"/{PREPROCESS_LAYER}" in r["tensor"]]
    assert {r["type"] for r in normalization} == {"FLOAT32"}  # kept float (tflite/convert.py)
    assert {r["type"] for r in backbone if r not in normalization} == {"INT8"}
    for row in {(r["op"], r["type"]): r for r in rows}.values():
        alone = tool.one_op(flatbuffer, row["index"])
        assert op_names(alone) == [row["op"]]
        tool.timer(alone, threads=1)()  # raises if the op cannot run on its own


def test_the_frontier_table_and_plot_show_every_model_and_mediapipe_only_when_measured(tmp_path, monkeypatch):
    """tools/frontier.py's table and plot from measured rows (the measuring needs trained models:
    its numbers are in the README). Ratios come from the rows; MediaPipe's column and rows only when it was
    measured (not with --no-mediapipe)."""
    from conftest import TOOLS, load_tool
    monkeypatch.syspath_prepend(str(TOOLS))  # the tool imports its neighbours
    tool = load_tool("frontier")
    rows = [{"name": name, "input": "256x192", "params": params, "mb": mb, "map50": 0.9, "map": 0.7,
             "invoke_int8_ms": int8, "invoke_fp32_ms": 2.0, "detect_ms": int8 + 0.5}
            for name, params, mb, int8 in (("nano", 390_000, 0.54, 1.5), ("base", 2_170_000, 2.45, 4.5))]
    hands = {"ms": 16.0, "track_ms": 15.0}
    with_hands = tool.table(rows, hands).splitlines()
    assert [line.split(" | ")[0] for line in with_hands[2:]] == [
        "| nano", "| base", "| MediaPipe Hands, every frame", "| MediaPipe Hands, tracking"]
    nano = with_hands[2].split(" | ")
    assert nano[8:11] == ["0.75", "2.00", "0.33x"]  # int8 / fp32, end to end, int8 vs base
    assert nano[11] == "8.0x / 7.5x faster |"
    without = tool.table(rows, None).splitlines()
    assert len(without) == 4 and "MediaPipe" not in "\n".join(without)
    for name, given in (("with.png", hands), ("without.png", None)):
        tool.plot(rows, given, tmp_path / name, threads=2)
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_keep_float_leaves_the_layers_it_names_float_and_says_when_it_names_none(untrained, demo_data, tmp_path,
                                                                                 monkeypatch):
    """`kerasdet export --keep-float`: the matched layers' ops come out float, the rest of the
    network int8, and tools/bench_tflite.py times the two files side by side."""
    if untrained.card.arch != "yolov8":
        pytest.skip("the layers are the backbone's, whatever the head")
    from conftest import TOOLS, load_tool
    from kerasdet.tflite.convert import convert, export
    monkeypatch.syspath_prepend(str(TOOLS))  # the tools import tools/timing.py
    model, card = load_model(untrained.path)
    flatbuffer = convert(model, card, "int8", demo_data, UNTRAINED_CALIB_COUNT, keep_float="Conv1|expanded_conv")
    backbone = [r for r in load_tool("profile_tflite").ops(flatbuffer, model.name)
                if r["part"] == "backbone" and f"/{PREPROCESS_LAYER}" not in r["tensor"]]
    kept = [r for r in backbone if "/Conv1_" in r["tensor"] or "/expanded_conv_" in r["tensor"]]
    assert len(kept) >= 3 and {r["type"] for r in kept} == {"FLOAT32"}  # the stem, block 0's depthwise and projection
    assert {r["type"] for r in backbone if r not in kept} == {"INT8"}

    with pytest.raises(ValueError, match=r"--keep-float 'Conv9' matches no layer of .*Conv1"):
        convert(model, card, "int8", demo_data, UNTRAINED_CALIB_COUNT, keep_float="Conv9")
    with pytest.raises(ValueError, match="int8 only"):
        convert(model, card, "fp32", keep_float="Conv1")

    files = [export(untrained.path, "int8", demo_data, tmp_path / name, UNTRAINED_CALIB_COUNT, keep_float=keep)
             for name, keep in (("int8.tflite", None), ("stem_float.tflite", "Conv1"))]
    times = load_tool("bench_tflite").side_by_side(files, threads=1, rounds=2, runs=2)
    assert [len(t) for t in times] == [2, 2] and all(ms > 0 for t in times for ms in t)
