"""Export: a trained `.keras` detector -> a self-describing `.tflite` (int8, fp16, fp32) with
decoding and NMS inside. `kerasdet.export(...)` is `kerasdet.tflite.convert.export`.

- serving.py: the graph that ships (uint8 image -> detector -> decoding -> NMS)
- convert.py: TFLite conversion, int8 calibration, the card and labels appended
- flatbuffer.py: reading and compacting the flatbuffer
"""
