"""The outputs of an exported .tflite, by name, in the flatbuffer's order.

They are the layout of TFLite detectors with NMS inside (the TF Object Detection API's SSD,
EfficientDet-Lite) under the names MediaPipe Tasks looks up (detection_postprocessing_graph.cc:
kLocationTensorName, ...). kerasdet.tflite.serving builds them; TFLiteDetector reads them.
  location (1, K, 4) float: ymin, xmin, ymax, xmax as fractions of the input's height and width
  category (1, K) float: class index
  score (1, K) float
  number of detections (1,) float: the first that many rows are detections, the rest padding
"""
OUTPUT_NAMES = LOCATION, CATEGORY, SCORE, COUNT = ("location", "category", "score", "number of detections")
