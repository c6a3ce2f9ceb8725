"""The web runtime: `kerasdet export MODEL --format web` writes a static site (site.py) that runs the
exported int8 `.tflite` in the browser with MediaPipe Tasks Vision (a pinned copy: bundle.py), the
page itself in static/ (index.html, app.js, style.css; no build step).

Nothing is imported here: the CLI imports site.py only for `--format web`.
"""
