"""Checks of values and arguments, however they arrive (eager, or traced in jit/grad/vmap).

* `ranges`: the valid range of every quantity (table columns, mechanism declarations,
  naming conventions).
* `values`: checks of concrete values, raising `ValueError` before anything is traced.
* `traced`: the same checks inside a traced computation (`integrate(..., checks=...)`).
* `inputs`: type checks of `integrate`'s arguments and a guard on the size of its output.
"""

from dendrax.checks.ranges import GATE, NON_NEGATIVE, POSITIVE, Range, range_of, ranges_of
from dendrax.checks.traced import RUN_TIME_ERRORS

__all__ = ["Range", "GATE", "POSITIVE", "NON_NEGATIVE", "range_of", "ranges_of", "RUN_TIME_ERRORS"]
