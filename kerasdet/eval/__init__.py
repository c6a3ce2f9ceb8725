"""Evaluation: COCO metrics with pycocotools (metrics.py, which training validates with too),
`evaluate` of a `.keras` or `.tflite` file on a data source returning an `EvaluationReport`
(evaluate.py), and the pictures people would rather look at than read (plots.py)."""
