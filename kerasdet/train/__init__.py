"""Training: `kerasdet.fit(config)`, the public `Trainer` and the `RunFolder` it writes."""
from .fit import FitResult, fit
from .run_folder import Progress, RunFolder
from .trainer import Trainer

__all__ = ["FitResult", "Progress", "RunFolder", "Trainer", "fit"]
