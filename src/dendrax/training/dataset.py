"""Minimal in-memory data loader: shuffle, batch, iterate (the Jaxley tutorial's ``Dataset``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = ["Dataset"]


class Dataset:
    """Pairs of inputs and labels, iterated in (optionally shuffled) mini-batches.

    ``Dataset(inputs, labels).shuffle(seed=0).batch(4)`` then ``for x, y in dataset: ...``
    yields arrays whose first axis is the batch (``inputs[idx]``, ``labels[idx]``). The final
    batch may be smaller unless ``batch(..., drop_last=True)``.

    ``shuffle`` and ``batch`` modify the dataset in place and return it, so both the chained and
    the statement style work. Shuffling with the same seed always gives the same order
    (numpy ``default_rng(seed)``), independently of any global random state.

    Args:
        inputs: array-like with the sample axis first, e.g. ``(n_samples, T, n_inputs)``.
        labels: array-like with the same number of samples.

    Raises:
        ValueError: if inputs and labels have different numbers of samples.
    """

    def __init__(self, inputs: Any, labels: Any):
        self.inputs = np.asarray(inputs)
        self.labels = np.asarray(labels)
        if self.inputs.ndim == 0 or self.labels.ndim == 0:
            raise ValueError("inputs and labels need a leading sample axis")
        if len(self.inputs) != len(self.labels):
            raise ValueError(
                f"inputs have {len(self.inputs)} samples but labels have {len(self.labels)}"
            )
        self.order = np.arange(len(self.inputs))
        self.batch_size = 1
        self.drop_last = False

    def __repr__(self) -> str:
        return (
            f"Dataset({len(self.inputs)} samples, inputs {self.inputs.shape[1:]}, "
            f"labels {self.labels.shape[1:]}, batch_size={self.batch_size})"
        )

    @property
    def num_samples(self) -> int:
        return len(self.inputs)

    def shuffle(self, seed: int | None = None) -> Dataset:
        """Draw a new random sample order (``seed=None``: fresh OS entropy). Returns ``self``."""
        self.order = np.random.default_rng(seed).permutation(len(self.inputs))
        return self

    def batch(self, batch_size: int, drop_last: bool = False) -> Dataset:
        """Set the mini-batch size (>= 1). Returns ``self``."""
        if not isinstance(batch_size, int | np.integer) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        self.batch_size = int(batch_size)
        self.drop_last = bool(drop_last)
        return self

    def __len__(self) -> int:
        """Number of batches per pass."""
        n, b = len(self.inputs), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for i in range(len(self)):
            idx = self.order[i * self.batch_size : (i + 1) * self.batch_size]
            yield self.inputs[idx], self.labels[idx]
