"""Parameter transforms, per-type optimizers and helpers for training dendrax models."""

from . import optimizer, transforms, utils
from .transforms import ParamTransform

__all__ = ["ParamTransform", "optimizer", "transforms", "utils"]
