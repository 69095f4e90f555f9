from . import swc
from .morphology import read_morphology

__all__ = ["read_morphology", "swc"]
