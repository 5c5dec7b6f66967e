r"""Pearson's chi-square tests, with p-values from the regularised incomplete gamma function."""

from __future__ import annotations

import torch

from notes import _validate as check
from notes.reparam._gumbel import probs_to_logits

__all__ = ["chi_square_gof", "chi_square_homogeneity"]


def _counts(counts: object, dims: str) -> torch.Tensor:
    c = check.tensor("counts", counts, dims=dims, floating=False)
    if c.dtype == torch.bool or c.dtype.is_complex:
        raise TypeError(f"counts must have an integer or floating dtype, got {c.dtype}")
    return check.whole_numbers("counts", c, minimum=0).double()


def _p_value(statistic: torch.Tensor, df: int) -> float:
    # P(X >= x) for X ~ chi2(df) is the regularised upper incomplete gamma Q(df / 2, x / 2).
    return float(torch.special.gammaincc(torch.tensor(df / 2, dtype=torch.float64), statistic / 2))


def chi_square_gof(counts: torch.Tensor, probs: torch.Tensor) -> tuple[float, float]:
    r"""Pearson's chi-square test of category counts against probabilities.

    $$ X^2 = \sum_{k=1}^K \frac{(c_k - n p_k)^2}{n p_k}
       \;\xrightarrow{n \to \infty}\; \chi^2_{K-1}, \qquad
       \text{p-value} = Q\big(\tfrac{K-1}{2}, \tfrac{X^2}{2}\big) $$

    with $Q$ the regularised upper incomplete gamma function (`torch.special.gammaincc`).

    Args:
        counts: $c$, shape `(K,)`, whole numbers $\ge 0$ (any dtype), with total $n > 0$.
        probs: $p$, shape `(K,)`, a distribution with every $p_k > 0$, summing to 1 within
            the tolerance of its own dtype (see
            [`probs_to_logits`][notes.reparam.probs_to_logits]); it is normalised in float64.

    Returns:
        `(statistic, p_value)`.

    Examples:
        >>> chi_square_gof(torch.tensor([50, 50]), torch.tensor([0.5, 0.5]))
        (0.0, 1.0)

    References:
        [Use on the page](../reparameterization.md#gumbel-max).
    """
    c = _counts(counts, "K")
    # p is judged a distribution in its own dtype, then normalised in float64
    p = probs_to_logits(check.tensor("probs", probs, dims="K")).double().exp()
    p = p / p.sum()
    if c.shape != p.shape or c.numel() < 2 or not c.sum() > 0:
        raise ValueError(
            f"counts must have the shape of probs {tuple(p.shape)}, K >= 2 and a positive "
            f"total, got shape {tuple(c.shape)} and total {c.sum().item()}"
        )
    expected = c.sum() * p  # n p_k
    statistic = ((c - expected) ** 2 / expected).sum()
    return float(statistic), _p_value(statistic, c.numel() - 1)


def chi_square_homogeneity(counts: torch.Tensor) -> tuple[float, float]:
    r"""Pearson's chi-square test that the rows of a contingency table share one distribution.

    $$ X^2 = \sum_{r,b} \frac{(c_{rb} - E_{rb})^2}{E_{rb}}, \qquad
       E_{rb} = \frac{c_{r\cdot}\, c_{\cdot b}}{c_{\cdot\cdot}}, \qquad
       X^2 \;\xrightarrow{n \to \infty}\; \chi^2_{(R-1)(B-1)} $$

    Args:
        counts: $c$, shape `(R, B)`: R samples binned into the same B bins; whole numbers
            $\ge 0$, every row
            and column with a positive total.

    Returns:
        `(statistic, p_value)`.

    Examples:
        >>> chi_square_homogeneity(torch.tensor([[10, 20], [10, 20]]))
        (0.0, 1.0)

    References:
        [Use on the page](../reparameterization.md#gumbel-softmax).
    """
    c = _counts(counts, "R B")
    rows, cols = c.sum(1, keepdim=True), c.sum(0, keepdim=True)  # (R, 1), (1, B)
    if min(c.shape) < 2 or not bool((rows > 0).all() and (cols > 0).all()):
        raise ValueError(
            f"counts must be at least 2 x 2 with a positive total in every row and column, "
            f"got shape {tuple(c.shape)}, row totals {rows.flatten().tolist()}"
        )
    expected = rows * cols / c.sum()  # E_rb
    statistic = ((c - expected) ** 2 / expected).sum()
    return float(statistic), _p_value(statistic, (c.shape[0] - 1) * (c.shape[1] - 1))
