"""Costs of points on a line, shared by the tests of the exact 1-D programme."""

import numpy as np


def line_cost(values, weights, centers, manhattan):
    """Weighted cost of every point at its nearest center."""
    gaps = np.abs(values[:, None] - centers[None, :])
    return float((weights * (gaps if manhattan else gaps**2).min(axis=1)).sum())
