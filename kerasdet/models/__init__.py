"""Models: MobileNet backbones and a light PAN neck (common/), one package per architecture
(yolov8/, retinanet/, each an `Architecture`: head, loss, decoding), the detector built from the
config, and saving/loading with the model card (running a trained model, Keras or TFLite: kerasdet/runtime/).

Nothing is imported here: running a .tflite file must not load TensorFlow (seconds, hundreds of MB).
Import from the modules: `kerasdet.models.detector.build_detector`, `kerasdet.models.load.load_model`.
"""
