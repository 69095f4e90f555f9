"""The package version, a module of its own as in Jaxley (`from dendrax.__version__ import
__version__`); `dendrax.__version__` is the same string (the package rebinds the name)."""

__version__ = "0.1.0"
