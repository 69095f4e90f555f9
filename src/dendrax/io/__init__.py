from . import swc
from .codec import ModelFileError
from .morphology import read_morphology
from .save_load import load_module, load_params, save_module, save_params

__all__ = [
    "read_morphology",
    "swc",
    "save_module",
    "load_module",
    "save_params",
    "load_params",
    "ModelFileError",
]
