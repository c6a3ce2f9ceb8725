"""A trained model on disk: `.keras` checkpoints saved and loaded with their model card (running one, or
an exported `.tflite`: kerasdet/runtime/)."""
from __future__ import annotations

from pathlib import Path

from ..core.card import ModelCard, check_card_fits, read_card, write_card


def save_model(model, card: ModelCard, path: str | Path) -> None:
    """A plain `.keras` file (loadable with keras.saving.load_model alone) with the card inside."""
    model.save(path)
    write_card(path, card)


def load_model(path: str | Path):
    """(Keras model, its ModelCard) from a `.keras` checkpoint."""
    import keras

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such model file")
    if path.suffix != ".keras":
        raise ValueError(f"{path}: expected a .keras checkpoint (a run folder's best.keras)"
                         + ("; this is an exported .tflite already" if path.suffix == ".tflite" else ""))
    card = read_card(path)
    try:
        model = keras.saving.load_model(path)
    except Exception as err:  # a corrupt zip, a non-Keras file renamed .keras, ...
        raise ValueError(f"{path}: not a loadable Keras model ({type(err).__name__}: {err})") from None
    return model, check_card_fits(card, model.outputs[1].shape[-1], path)  # every head: [boxes, class logits]
