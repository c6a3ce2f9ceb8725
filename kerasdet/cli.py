"""The `kerasdet` command line: a thin layer over the Python API."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")  # a missing camera is our one error line, not OpenCV's three

from .config import ConfigError, ModelConfig, load_config  # noqa: E402
from .core.input_size import InputSize  # noqa: E402
from .core.postprocess import CONF, MAX_DETECTIONS, NMS_IOU, THREADS, TILE_OVERLAP  # noqa: E402
from .data.errors import DataError  # noqa: E402

DATA_HELP = ("a LabelImg / Pascal VOC source: a folder in any layout (XML beside the images, images/ + annots/, "
             "nested, a VOC devkit), FOLDER:SPLIT (VOC2007:trainval), or a .txt list of images, XML or VOC ids; "
             "or, read as `convert` reads them: a COCO, Cloud Annotations or LabelMe .json, a TF OD API .csv, a "
             "folder of YOLO txt labels with classes.txt or of LabelMe .json")
DEMO_MODEL = "runs/demo/train/best_int8.tflite"  # what `kerasdet demo` leaves behind: `cam`'s default


class Parser(argparse.ArgumentParser):
    """Positionals anywhere among the options (`kerasdet cam best.tflite --headless clip.mp4`): argparse
    alone fills optional positionals (cam's MODEL, SOURCE) only from the first run of them."""
    _parsing = False

    def parse_known_args(self, args=None, namespace=None):
        if self._parsing:  # parse_known_intermixed_args calls this twice (Python 3.11, 3.12)
            return super().parse_known_args(args, namespace)
        self._parsing = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._parsing = False


def _cmd_demo_data(args) -> None:
    from .data.synthetic import make_demo_dataset
    out = make_demo_dataset(args.out, n=args.n, seed=args.seed)
    print(f"wrote {args.n} images with LabelImg XML to {out}")


def _cmd_stats(args) -> None:
    from .data.stats import dataset_stats, format_stats, plot_stats
    stats = dataset_stats(args.data, args.classes.split(",") if args.classes else None, args.input_size)
    if args.plot:
        plot_stats(stats, args.plot)
    public = {k: v for k, v in stats.items() if not k.startswith("_")}
    if args.json:
        print(json.dumps(public))
    else:
        print(format_stats(public))
        if args.plot:
            print(f"plots: {args.plot}")


def _cmd_split(args) -> None:
    from .data.split import kfold_dataset, split_dataset
    out = args.out or Path("splits") / Path(args.data).resolve().name
    if args.folds:
        for i, fold in enumerate(kfold_dataset(args.data, out, args.folds, args.group, args.seed), 1):
            print(f"fold{i}: train {len(fold['train'])} images, val {len(fold['val'])} -> {Path(out) / f'fold{i}'}")
        return
    splits = split_dataset(args.data, out, args.val, args.test, args.group, args.seed)
    for name, paths in splits.items():
        if paths:
            print(f"{name}: {len(paths)} images -> {Path(out) / (name + '.txt')}")


def _cmd_preview(args) -> None:
    from .data.dataset import load_dataset
    from .data.preview import preview_augmentations
    from .train.recipe import sized_schedule
    cfg = load_config(args.config, args.set)
    ds = load_dataset(cfg.data.train, cfg.data.classes or None, cfg.data.on_error)
    cfg = sized_schedule(cfg, ds)[0]  # model.input_size auto: the size training would choose
    print(f"wrote {preview_augmentations(cfg, args.out, n=args.n, seed=args.seed, dataset=ds)}")


def _cmd_train(args) -> None:
    from .train import RunFolder, fit
    if args.resume:
        result = fit(None, resume=args.resume, overrides=args.set)
    else:
        if not args.config:
            raise ValueError("give a CONFIG file, or --resume RUN_DIR")
        result = fit(args.config, out=args.out, overrides=args.set, exist_ok=args.exist_ok)
    best = result.best_metrics
    if best:
        print(f"best epoch {result.best_epoch}: mAP@0.5 {best['map50']:.4f}, mAP@[.5:.95] {best['map']:.4f}")
    names = (RunFolder.BEST, RunFolder.LAST, RunFolder.METRICS, RunFolder.PLOT, RunFolder.TENSORBOARD + "/")
    print(f"run folder: {result.run_dir} ({', '.join(names)})")


def _cmd_lr_find(args) -> None:
    from .train.lr_find import PLOT, lr_find
    cfg = load_config(args.config, args.set)
    ramp = {key: getattr(args, key) for key in ("start", "end", "steps") if getattr(args, key) is not None}
    result = lr_find(cfg, out=args.out, **ramp)
    print(f"suggested train.learning_rate: {result.suggested:.2g} (the config has {cfg.train.learning_rate:g}); "
          f"curve: {result.out / PLOT}")


def _cmd_evaluate(args) -> None:
    from .eval.evaluate import evaluate
    report = evaluate(args.model, args.data, args.classes.split(",") if args.classes else None, plots=args.plots,
                      tile=args.tile, tile_overlap=args.tile_overlap)
    if args.json:
        print(json.dumps(report.to_json()))
    else:
        print(report.text())
        if args.plots:
            print(report.mistakes)
            print("plots: " + ", ".join(report.plots))


def _cmd_export(args) -> None:
    if args.format == "web":
        from .runtime.web.site import export_web
        site = export_web(args.model, args.out, args.mediapipe_web, args.calib, args.input_shape, args.keep_float)
        print(f"wrote {site}/: serve it with `python -m http.server -d {site}` and open http://localhost:8000")
        return
    from .tflite.convert import export
    path = export(args.model, args.format, args.calib, args.out, input_shape=args.input_shape,
                  keep_float=args.keep_float)
    print(f"wrote {path}")


def _cmd_inspect(args) -> None:
    from .tflite.inspect import describe
    print(describe(args.model))


def _width_x_height(text: str) -> tuple[int, int]:
    """'320x240' -> (height 240, width 320); '320', a square: (320, 320)."""
    try:
        sides = [int(n) for n in text.lower().split("x")]
        width, height = sides * 2 if len(sides) == 1 else sides  # three sides: ValueError too
        if min(width, height) < 1:
            raise ValueError(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: write WIDTHxHEIGHT, e.g. 320x240, or one side for a "
                                         "square, e.g. 320") from None
    return height, width


def add_predict_arguments(p: argparse.ArgumentParser, model: str | None = None, source: str | None = None) -> None:
    """What `detect`, `cam` and tools/detect_cam.py share, declared once: `MODEL SOURCE` (positional, as
    `kerasdet detect MODEL SOURCE`; `--model` / `--source` are the same, cam's older spelling) and what is kept
    of the model's detections. `model`, `source`: the verb's defaults (None: required). The defaults of the
    options live in core/postprocess.py."""
    g = p.add_argument_group("model, source and what is kept (the same for detect and cam)")
    g.add_argument("model", nargs="?", metavar="MODEL", help="a .tflite or .keras model" + (
        f" (default {model}, what `kerasdet demo` leaves)" if model else " (required, here or as --model)"))
    g.add_argument("source", nargs="?", metavar="SOURCE", help="an image, a folder (searched recursively), a .txt "
                   "list or a LabelImg data source" + (f"; a video file or a camera index (default {source})"
                                                       if source else " (required, here or as --source)"))
    g.add_argument("--model", dest="model_option", metavar="MODEL", help="the same as MODEL")
    g.add_argument("--source", dest="source_option", metavar="SOURCE", help="the same as SOURCE")
    g.add_argument("--conf", type=float, default=CONF, help=f"lowest score kept and drawn (default {CONF})")
    g.add_argument("--iou", type=float, default=NMS_IOU, help=f"NMS IoU (default {NMS_IOU}, the model's own NMS; "
                   "lower is stricter)")
    g.add_argument("--max-det", type=int, default=None, help="detections kept per image, best first (default: the "
                   f"model's own cap, its card's max_detections: {MAX_DETECTIONS} unless trained on crowded photos)")
    g.add_argument("--threads", type=int, default=THREADS, help="LiteRT threads (default: one a core, at most 4)")
    g.add_argument("--all-labels", action="store_true", help="every class the model reports for an object, "
                   "each with its score (by default the best one: one box per object)")
    add_tile_arguments(g)
    p.set_defaults(predict_defaults=(model, source))


def add_tile_arguments(p) -> None:
    """Tiled inference (runtime/tiles.py), the same for detect, cam and evaluate."""
    p.add_argument("--tile", type=_width_x_height, metavar="WxH", help="large frames with small objects: run the "
                   "model on overlapping WxH tiles of each frame (e.g. its input size, 320x320) and on the whole "
                   "frame, an object cut by a seam found once (default: the whole frame only)")
    p.add_argument("--tile-overlap", type=float, default=TILE_OVERLAP, metavar="F",
                   help=f"share of a tile's side its neighbours overlap (default {TILE_OVERLAP})")


def _model_and_source(args, prog: str) -> None:
    """args.model, args.source from the positionals and --model / --source: the positionals fill, in order,
    what the options left unsaid; what is still missing takes the verb's default, or is an error."""
    positional = [v for v in (args.model, args.source) if v is not None]
    chosen = [args.model_option, args.source_option]
    for i, value in enumerate(chosen):
        if value is None and positional:
            chosen[i] = positional.pop(0)
    if positional:
        raise ValueError(f"{positional[0]!r}: one MODEL and one SOURCE at most (--model and --source are the same "
                         f"as MODEL and SOURCE): {prog} MODEL SOURCE")
    missing = [name for name, value, default in zip(("MODEL", "SOURCE"), chosen, args.predict_defaults)
               if value is None and default is None]
    if missing:
        raise ValueError(f"give {' and '.join(missing)}: {prog} MODEL SOURCE")
    args.model, args.source = (value if value is not None else default
                               for value, default in zip(chosen, args.predict_defaults))


def _cmd_detect(args) -> None:
    _model_and_source(args, "kerasdet detect")
    from .infer import detect
    run = detect(args.model, args.source, csv_path=args.csv, voc_dir=args.voc, images_dir=args.save_images,
                 conf=args.conf, iou=args.iou, max_det=args.max_det, num_threads=args.threads,
                 overwrite=args.overwrite, one_label=not args.all_labels, tile=args.tile,
                 tile_overlap=args.tile_overlap)
    boxes = sum(len(r.detections.boxes) for r in run.results)
    print(f"{len(run.results)} images, {boxes} detections with score >= {args.conf}")
    for label, path in (("CSV", args.csv), ("LabelImg XML", args.voc), ("pictures", args.save_images)):
        if path:
            print(f"{label}: {path}")
    if run.kept_xml:
        print(f"{len(run.kept_xml)} XML were already in {args.voc} and are left as they are (e.g. "
              f"{run.kept_xml[0].name}); --overwrite replaces them")
    if run.failed:
        listed = "".join(f"\n  {f}" for f in run.failed)
        raise OSError(f"{len(run.failed)} images could not be read (the others were processed):{listed}")


def _cmd_cam(args) -> None:
    _model_and_source(args, "kerasdet cam")
    if args.model == DEMO_MODEL and not os.path.exists(DEMO_MODEL):
        raise FileNotFoundError(f"{DEMO_MODEL} does not exist yet: run `kerasdet demo` first, or give your model: "
                                "kerasdet cam YOUR_MODEL.tflite [SOURCE]")
    from .infer.realtime import run_realtime
    from .infer.sources import open_source
    from .runtime.load import load_predictor
    from .runtime.tiles import tiled
    predictor = tiled(load_predictor(args.model, num_threads=args.threads), args.tile, args.tile_overlap, args.max_det)
    source = open_source(args.source)
    report = run_realtime(predictor, predictor.card.class_names, source, args.conf, args.iou, args.max_det,
                          save=args.save, show=not args.headless, max_frames=args.max_frames,
                          one_label=not args.all_labels)
    print(report)
    if args.save:
        print(f"annotated stream: {args.save}")
    if report.ended_early:
        raise OSError(report.ended_early)


CAM_USAGE = ("%(prog)s [-h] [MODEL] [SOURCE] [--save FILE] [--headless] [--max-frames N]\n"
             "       [--conf CONF] [--iou IOU] [--max-det N] [--threads N] [--all-labels] [--tile WxH] "
             "[--tile-overlap F]")


def add_cam_arguments(p: argparse.ArgumentParser) -> None:
    """`kerasdet cam` and tools/detect_cam.py take the same arguments (those of `detect`, then cam's own)."""
    add_predict_arguments(p, model=DEMO_MODEL, source="0")
    p.add_argument("--save", metavar="FILE", help="write the annotated stream to .mp4, .avi or .gif")
    p.add_argument("--headless", action="store_true", help="no window (servers, tests)")
    p.add_argument("--max-frames", type=int, metavar="N", help="stop after this many frames")
    p.set_defaults(func=_cmd_cam)


def _cmd_frames(args) -> None:
    from .data.frames import GROUP_PATTERN, extract_videos
    written = extract_videos(args.videos, args.out, args.every, args.fps)
    print(f"wrote {len(written)} frames to {args.out}; split keeping videos whole with:\n"
          f"  kerasdet split {args.out} --group '{GROUP_PATTERN}'")


def _cmd_kfold(args) -> None:
    from .train.kfold import kfold
    kfold(args.config, args.data, args.folds, args.name, args.classes.split(",") if args.classes else None,
          args.set, args.seed, args.group, args.fold, **({"out": args.out} if args.out else {}))


def _cmd_convert(args) -> None:
    from .data.formats import convert
    print(convert(args.source, args.out, args.to, args.images, args.classes.split(",") if args.classes else None))


def _cmd_demo(args) -> None:
    from .demo import run_demo
    run_demo(args.out, n=args.n, epochs=args.epochs)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kerasdet", description="Train small, fast object detectors "
                                     "from LabelImg / Pascal-VOC XML.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    p = sub.add_parser("demo", help="generate synthetic data and run the whole job on it")
    p.add_argument("--out", default="runs/demo")
    p.add_argument("--n", type=int, default=300, help="synthetic images to generate")
    p.add_argument("--epochs", type=int, default=None, help="override the demo's training epochs")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("train", help="fine-tune a detector from a config file")
    p.add_argument("config", nargs="?")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config key")
    p.add_argument("--out", help="run folder (default: train.out/<config name><n>)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue a killed run from its last epoch")
    p.add_argument("--exist-ok", action="store_true", help="--out may hold an earlier run: start over in it")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("lr-find", help="learning-rate range test: loss against rate, plotted, a suggested rate")
    p.add_argument("config")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config key")
    p.add_argument("--start", type=float, help="first learning rate (default: train/lr_find.py's START)")
    p.add_argument("--end", type=float, help="last learning rate (default: END)")
    p.add_argument("--steps", type=int, help="training steps, one rate each (default: STEPS)")
    p.add_argument("--out", help="folder for lr_find.csv and lr_find.png (default: train.out/<config name>-lr-find<n>)")
    p.set_defaults(func=_cmd_lr_find)

    p = sub.add_parser("evaluate", help="COCO metrics of a trained model on a data folder or list")
    p.add_argument("model", help="a .keras checkpoint or a .tflite file (each knows its class names)")
    p.add_argument("data", help=DATA_HELP)
    p.add_argument("--classes", help="comma-separated class names: a check, it must match the model's")
    p.add_argument("--json", action="store_true")
    p.add_argument("--plots", metavar="DIR", help="save PR curves, a confusion matrix, ground truth | prediction "
                                                  "pictures (worst first) and mistakes.csv here")
    add_tile_arguments(p)
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("export", help="write a .tflite (int8, fp16, fp32) with decoding and NMS inside, or a web "
                                      "page that runs the int8 one in the browser (web)")
    p.add_argument("model", help="a .keras checkpoint from a run folder (web: or a .tflite kerasdet exported)")
    p.add_argument("--format", default="int8", choices=("int8", "fp16", "fp32", "web"),
                   help="web: a static site (page, int8 model, MediaPipe Tasks Vision) for the camera or an image")
    p.add_argument("--calib", help="images for int8 calibration (default: the run's training data)")
    p.add_argument("--out", help="output path (default: beside the model; web: the site's folder, <model>_web/)")
    p.add_argument("--mediapipe-web", metavar="PATH",
                   help="web: the @mediapipe/tasks-vision package, its .tgz or node_modules folder, for a machine "
                        "where npm cannot download it (default: ~/.cache/kerasdet/, else npm)")
    p.add_argument("--input-shape", type=_width_x_height, metavar="WxH",
                   help="the input, shaped like the frames it will see: MediaPipe stretches each frame to it "
                        "(default: the shape of most training images, e.g. 320x240 for 4:3 photos)")
    p.add_argument("--keep-float", metavar="REGEX",
                   help="int8: leave the Keras layers whose names start with a match float, e.g. "
                        "'Conv1|expanded_conv|block_[12]_' (MobileNetV2's layers at strides 2 and 4)")
    p.set_defaults(func=_cmd_export)

    p = sub.add_parser("kfold", help="k-fold cross-validation of a recipe on one dataset: mAP mean +- std over folds")
    p.add_argument("config", help="the recipe: a config file (each fold replaces its data.train and data.val)")
    p.add_argument("data", help="a LabelImg data source (folder, list, ...): each image is validated once, by the "
                                "fold that did not train on it")
    p.add_argument("--folds", type=int, default=3, metavar="K", help="folds (default 3)")
    p.add_argument("--name", help="the recipe's name: its results go to OUT/<data folder name>/NAME (default: the "
                                  "config file's name)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config key")
    p.add_argument("--classes", help="comma-separated class names (default: the config's data.classes, else every "
                                     "class in DATA)")
    p.add_argument("--seed", type=int, default=0, help="which folds (the same seed, the same folds)")
    p.add_argument("--group", help="regex whose first group names images that must stay in one fold (as split's)")
    p.add_argument("--fold", type=int, metavar="I", help="train only fold I (1..folds), e.g. to alternate two "
                   "recipes fold by fold; the summary covers the folds finished so far")
    p.add_argument("--out", help="folder of the studies (default runs/kfold); folds finished there are read back")
    p.set_defaults(func=_cmd_kfold)

    p = sub.add_parser("inspect", help="what a .keras or .tflite file holds: card, input, outputs, metadata")
    p.add_argument("model")
    p.set_defaults(func=_cmd_inspect)

    p = sub.add_parser("detect", help="detect on images: CSV, LabelImg XML (pre-annotation), pictures",
                       usage="%(prog)s [-h] MODEL SOURCE [--csv CSV] [--voc OUT_DIR] [--save-images DIR] [--overwrite]\n"
                             "       [--conf CONF] [--iou IOU] [--max-det N] [--threads N] [--all-labels]\n"
                             "       [--tile WxH] [--tile-overlap F]")
    add_predict_arguments(p)
    p.add_argument("--csv", help="write filename,width,height,class,score,xmin,ymin,xmax,ymax rows here")
    p.add_argument("--voc", metavar="OUT_DIR", help="write one LabelImg XML per image here, to correct in LabelImg")
    p.add_argument("--save-images", metavar="DIR", help="save pictures with the boxes drawn")
    p.add_argument("--overwrite", action="store_true", help="let --voc replace XML already there (by default "
                   "they are kept: they may hold your corrections)")
    p.set_defaults(func=_cmd_detect)

    p = sub.add_parser("cam", help="real-time detection on a webcam, video, image or folder, with FPS",
                       usage=CAM_USAGE)
    add_cam_arguments(p)

    p = sub.add_parser("convert", help="LabelImg XML <-> CSV, COCO JSON, Cloud Annotations, YOLO txt; LabelMe in; "
                                       "label_map.pbtxt <-> class names")
    p.add_argument("source", help="LabelImg XML (any data source), a YOLO txt or LabelMe folder, .csv, COCO .json, "
                                  "_annotations.json, .pbtxt, classes .txt")
    p.add_argument("out", help="a folder (XML, or YOLO txt with --to yolo), .csv, .json (COCO; _annotations.json: "
                               "Cloud Annotations), .pbtxt, or .txt (class names)")
    p.add_argument("--to", choices=("voc", "csv", "coco", "cloud", "yolo", "pbtxt", "classes"),
                   help="output format, when OUT's name does not say (yolo: OUT is a folder of YOLO .txt labels "
                        "with classes.txt)")
    p.add_argument("--images", help="folder of the images a .csv / .json refers to (default: its own folder)")
    p.add_argument("--classes", help="comma-separated class order (default: sorted names)")
    p.set_defaults(func=_cmd_convert)

    p = sub.add_parser("frames", help="JPEG frames of videos, to label in LabelImg (named so that split keeps "
                                      "each video whole)")
    p.add_argument("videos", nargs="+", metavar="VIDEO", help="a video file OpenCV reads (.mp4, .avi, .mov, ...)")
    p.add_argument("out", metavar="OUT", help="a new folder, or one `kerasdet frames` made")
    rate = p.add_mutually_exclusive_group()
    rate.add_argument("--every", type=int, metavar="N", help="keep every N-th frame (default: every frame)")
    rate.add_argument("--fps", type=float, metavar="F", help="keep about F frames per second")
    p.set_defaults(func=_cmd_frames)

    p = sub.add_parser("demo-data", help="write a small synthetic LabelImg dataset")
    p.add_argument("out")
    p.add_argument("--n", type=int, default=300)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_cmd_demo_data)

    p = sub.add_parser("stats", help="counts, distributions and problems of a dataset")
    p.add_argument("data", help=DATA_HELP)
    p.add_argument("--classes", help="comma-separated class names; others are reported as problems")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--plot", help="save distribution plots to this PNG")
    p.add_argument("--input-size", type=_width_x_height, default=str(InputSize.of(ModelConfig.input_size)),
                   metavar="WxH", help="the model's input (model.input_size), to report the boxes' sizes as the "
                   "model sees them, each image letterboxed into it (default: %(default)s)")
    p.set_defaults(func=_cmd_stats)

    p = sub.add_parser("split", help="write train/val/test file lists (files are not moved)")
    p.add_argument("data", help=DATA_HELP + " (those are refused: a list's images are paired with LabelImg XML; "
                                            "`kerasdet convert` them to XML first)")
    p.add_argument("--val", type=float, default=0.15)
    p.add_argument("--test", type=float, default=0.15)
    p.add_argument("--group", help="regex whose first group names images that must stay together")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--folds", type=int, help="k-fold instead: OUT/fold<i>/train.txt and val.txt, each image in "
                                              "one val.txt (--val and --test are then unused)")
    p.add_argument("--out", help="folder for the lists (default splits/<data folder name>)")
    p.set_defaults(func=_cmd_split)

    p = sub.add_parser("preview", help="grid of augmented training images with their boxes")
    p.add_argument("config")
    p.add_argument("--out", default="preview.png")
    p.add_argument("--n", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.set_defaults(func=_cmd_preview)
    return parser


def run(args, prog: str) -> int:
    """Run a parsed command; user errors are one line on stderr and exit code 2."""
    try:
        args.func(args)
        sys.stdout.flush()  # a closed pipe shows here, inside the try, not at interpreter exit
    except BrokenPipeError:  # `kerasdet stats DATA | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (ConfigError, DataError, ValueError, OSError, RuntimeError, NotImplementedError) as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as stop:  # Ctrl-C: one line (train's says how to resume), 130 as for any SIGINT
        print(f"{prog}: {str(stop) or 'stopped by Ctrl-C before it finished; run the command again'}",
              file=sys.stderr)
        return 130
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run(args, f"kerasdet {args.command}")


if __name__ == "__main__":
    sys.exit(main())
