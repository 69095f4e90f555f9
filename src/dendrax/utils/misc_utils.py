"""Small array helpers with Jaxley's public names (`jaxley.utils.misc_utils`)."""

from __future__ import annotations

import numpy as np

__all__ = ["cumsum_leading_zero"]


def cumsum_leading_zero(array) -> np.ndarray:
    """Cumulative sum with a leading 0: offsets of consecutive blocks of sizes `array`.

    Args:
        array: (n,) block sizes, e.g. compartments per branch.

    Returns:
        (n + 1,) array `[0, a0, a0 + a1, ...]`; its last entry is the total.
    """
    array = np.asarray(array).reshape(-1)
    return np.concatenate([np.zeros(1, dtype=array.dtype), np.cumsum(array)])
