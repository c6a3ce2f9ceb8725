"""The dependency-free core: types and conventions every stage shares, importable without
TensorFlow, Keras or albumentations (NumPy and OpenCV only), so the light runtime
(`kerasdet.TFLiteDetector`) stays light.

- detections.py: `Detections`, one image's boxes, scores and classes in its own pixels
- records.py: `ImageRecord`, one annotated image
- letterbox.py: the model input convention (letterbox, padding value)
- input_size.py: `InputSize`, the network's input (width, height), read once from `model.input_size`
- class_names.py: the classes.txt / labels.txt text format
- postprocess.py: the NMS settings inside every model
- registry.py: the names of the architectures and backbones
- card.py: `ModelCard`, what a saved model knows about itself
- draw.py: boxes drawn on pictures, pictures tiled (preview, detection pictures, the camera demo)
"""
