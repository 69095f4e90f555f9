"""Parameter transforms, per-type optimizers and helpers for training dendrax models."""

from . import optimizer, transforms, utils
from .optimizer import TypeOptimizer
from .transforms import ParamTransform

__all__ = ["ParamTransform", "TypeOptimizer", "optimizer", "transforms", "utils"]
