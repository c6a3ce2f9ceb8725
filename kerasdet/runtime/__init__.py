"""Running a trained model, Keras or exported: `load_predictor` opens either (load.py), and both answer
`detect(image) -> Detections` in the image's own pixels: `KerasPredictor` (keras_predictor.py, for
validation during training and `.keras` checkpoints) and `TFLiteDetector` (tflite_detector.py, LiteRT,
the light runtime); `select_detections` (select.py) is what the user is shown of them; `Tiled` (tiles.py)
runs either on overlapping tiles of large frames (`--tile`), merging what the tiles saw.

Nothing is imported here: running a .tflite file must not load TensorFlow (seconds, hundreds of MB).
"""
