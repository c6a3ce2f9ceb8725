"""Models: MobileNet backbones, a light PAN neck, YOLOv8-style and RetinaNet heads, built from the config,
and the predictors that run a trained one (Keras or TFLite).

Nothing is imported here: running a .tflite file must not load TensorFlow (seconds, hundreds of MB).
Import from the modules: `kerasdet.models.detector.build_detector`, `kerasdet.models.load.load_predictor`.
"""
