from . import swc

__all__ = ["swc"]
