"""Explicit inverse of short tridiagonal chains, for the branched solve.

For a chain of `L` nodes (head first) with diagonal `d`, `A[j, j - 1] = upper[j]` and
`A[j - 1, j] = lower[j]`, every entry of the inverse is a product of continuants (the
determinants of the leading and trailing sub-chains) and of off-diagonals, over the
chain's determinant. All of it is multiplications and additions except the reciprocals of
the diagonal and of the determinant, so XLA fuses the elimination of all chains into the
few kernels that use it instead of one kernel per chain position (each position of the
sequential sweep ends in a division that several later operations read). Rows are scaled
by their diagonal first, so that the continuants stay near 1 for the diagonally dominant
cable matrices (no overflow in float32).
"""

from __future__ import annotations

__all__ = ["chain_inverse"]


def chain_inverse(diag, upper, lower):
    """Entries of the inverse of every chain.

    Args:
        diag, upper, lower: (C, L) columns of C chains of L nodes, head in column 0;
            column 0 of `upper` and `lower` (the head's coupling above the chain) is unused.

    Returns:
        `g` with `g[j][m]` the (C,) entries `(A^-1)[j, m]` of all chains.
    """
    length = diag.shape[1]
    inv_d = 1.0 / diag
    # scaled off-diagonals: above[j] = A[j, j + 1] / d[j], below[j] = A[j + 1, j] / d[j + 1]
    above = [lower[:, j + 1] * inv_d[:, j] for j in range(length - 1)]
    below = [upper[:, j + 1] * inv_d[:, j + 1] for j in range(length - 1)]
    coupling = [a * b for a, b in zip(above, below, strict=True)]
    one = inv_d[:, 0] * 0.0 + 1.0
    lead = [one, one]  # lead[j + 1]: determinant of the scaled rows 0 .. j - 1
    for j in range(1, length):
        lead.append(lead[-1] - coupling[j - 1] * lead[-2])
    trail = [one, one]  # built from the bottom: trail[-(j + 1)] for rows j + 1 .. L - 1
    for j in reversed(range(length - 1)):
        trail.append(trail[-1] - coupling[j] * trail[-2])
    trail = trail[::-1]  # trail[j]: determinant of the scaled rows j .. L - 1 (trail[L] = 1)
    inv_det = 1.0 / lead[length]
    g = [[None] * length for _ in range(length)]
    for j in range(length):
        for m in range(length):
            lo, hi = min(j, m), max(j, m)
            path = lead[lo] * trail[hi + 1]
            for i in range(lo, hi):
                path = path * -(above[i] if j < m else below[i])
            g[j][m] = path * inv_det * inv_d[:, m]
    return g
