r"""The exact-score testbed: a Gaussian mixture stays a Gaussian mixture under noising.

If $x_0 \sim \sum_k w_k \mathcal{N}(\mu_k, C_k)$ and $x = s\,(x_0 + \sigma\varepsilon)$, then

$$ p(x; s, \sigma) = \sum_k w_k\, \mathcal{N}\bigl(x;\ s\mu_k,\ s^2 (C_k + \sigma^2 I)\bigr), $$

so the log-density, the score and the denoiser $\mathbb{E}[x_0 \mid x]$ are exact at every
noise level. Labelled components give conditional scores for guidance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

import torch
from torch import Tensor

from notes._validate import agree, instance, integer, positive_int, probabilities, real, tensor
from notes._validate import generator as check_generator

__all__ = ["GaussianMixture", "mixture"]


# --8<-- [start:mixture]
@dataclass(frozen=True)
class GaussianMixture:
    r"""$\sum_k w_k \mathcal{N}(\mu_k, C_k)$ with a label per component; build with `mixture`.

    Attributes:
        weights: $w$, shape `(K,)`, a distribution.
        means: $\mu$, shape `(K, D)`.
        covs: $C$, shape `(K, D, D)`, positive definite.
        labels: shape `(K,)`, int64, the class of each component.

    Examples:
        >>> f64 = torch.float64
        >>> one = GaussianMixture(torch.ones(1, dtype=f64), torch.zeros(1, 1, dtype=f64),
        ...                       torch.eye(1, dtype=f64)[None], torch.tensor([0]))
        >>> one.log_prob(torch.zeros(1, 1, dtype=f64))  # log N(0; 0, 1) = -log(2 pi) / 2
        tensor([-0.9189], dtype=torch.float64)
    """

    weights: Tensor
    means: Tensor
    covs: Tensor
    labels: Tensor

    def __post_init__(self) -> None:
        """Check the fields by the rules of `mixture` (which also fills in default labels)."""
        instance("labels", self.labels, Tensor)
        _check_fields(self.weights, self.means, self.covs, self.labels)

    @classmethod
    def _derived(cls, weights: Tensor, means: Tensor, covs: Tensor, labels: Tensor) -> Self:
        # a mixture made from a checked one (noised, conditioned) obeys the rules: no re-check
        m = object.__new__(cls)
        for name, value in zip(
            ("weights", "means", "covs", "labels"), (weights, means, covs, labels), strict=True
        ):
            object.__setattr__(m, name, value)
        return m

    def noised(self, s: float = 1.0, sigma: float = 0.0) -> GaussianMixture:
        r"""The law of $x = s(x_0 + \sigma\varepsilon)$: means $s\mu_k$, covariances $s^2(C_k + \sigma^2 I)$."""
        s, sigma = real("s", s, gt=0), real("sigma", sigma, ge=0)
        eye = torch.eye(self.means.shape[1], dtype=self.covs.dtype)
        return GaussianMixture._derived(
            self.weights, s * self.means, s**2 * (self.covs + sigma**2 * eye), self.labels
        )

    def _check(self, x: Tensor) -> Tensor:
        x = tensor("x", x, dims="N D", sizes={"D": self.means.shape[1]})
        if x.dtype != self.means.dtype:
            raise TypeError(f"x has dtype {x.dtype} but the mixture has {self.means.dtype}")
        return x

    def _terms(self, x: Tensor) -> tuple[Tensor, Tensor]:
        # log w_k + log N(x; mu_k, C_k), shape (N, K), and the precision-weighted residuals
        # P_k (x - mu_k), shape (N, K, D), from one Cholesky factor per component.
        L = torch.linalg.cholesky(self.covs)  # (K, D, D)
        precision = torch.cholesky_inverse(L)  # C_k^{-1}, (K, D, D)
        r = x[:, None, :] - self.means[None]  # (N, K, D)
        pr = torch.einsum("kde,nke->nkd", precision, r)  # C_k^{-1} (x - mu_k)
        quad = (r * pr).sum(-1)  # (N, K)
        logdet = 2 * torch.log(torch.diagonal(L, dim1=-2, dim2=-1)).sum(-1)  # (K,)
        d = x.shape[1]
        log_n = -0.5 * (quad + logdet + d * torch.log(torch.tensor(2 * torch.pi, dtype=x.dtype)))
        return torch.log(self.weights) + log_n, pr

    def log_prob(self, x: Tensor, s: float = 1.0, sigma: float = 0.0) -> Tensor:
        r"""$\log p(x; s, \sigma)$, shape `(N,)` for `x` of shape `(N, D)`."""
        x = self._check(x)
        terms, _ = self.noised(s, sigma)._terms(x)
        return torch.logsumexp(terms, -1)

    def responsibilities(self, x: Tensor, s: float = 1.0, sigma: float = 0.0) -> Tensor:
        r"""$P(k \mid x)$ under the noised mixture, shape `(N, K)`."""
        x = self._check(x)
        terms, _ = self.noised(s, sigma)._terms(x)
        return torch.softmax(terms, -1)

    def score(self, x: Tensor, s: float = 1.0, sigma: float = 0.0) -> Tensor:
        r"""$\nabla_x \log p(x; s, \sigma) = -\sum_k P(k \mid x)\, \Sigma_k^{-1}(x - s\mu_k)$, shape `(N, D)`."""
        x = self._check(x)
        terms, pr = self.noised(s, sigma)._terms(x)
        return -(torch.softmax(terms, -1)[..., None] * pr).sum(1)

    def denoise(self, x: Tensor, s: float = 1.0, sigma: float = 0.0) -> Tensor:
        r"""The exact posterior mean $\mathbb{E}[x_0 \mid x]$, computed per component, not from the score.

        $$ \mathbb{E}[x_0 \mid x] = \sum_k P(k \mid x)
           \bigl(\mu_k + C_k (C_k + \sigma^2 I)^{-1} (x/s - \mu_k)\bigr) $$
        """
        x = self._check(x)
        r = self.responsibilities(x, s, sigma)  # (N, K)
        eye = torch.eye(x.shape[1], dtype=x.dtype)
        gain = torch.linalg.solve(self.covs + sigma**2 * eye, self.covs).mT  # C (C + s^2 I)^-1
        y = x[:, None, :] / s - self.means[None]  # (N, K, D)
        post = self.means[None] + torch.einsum("kde,nke->nkd", gain, y)
        out: Tensor = (r[..., None] * post).sum(1)
        return out

    def class_log_prob(self, x: Tensor, label: int, s: float = 1.0, sigma: float = 0.0) -> Tensor:
        r"""$\log P(y = \text{label} \mid x)$ under the noised mixture, shape `(N,)`: the exact classifier."""
        integer("label", label)
        x = self._check(x)
        terms, _ = self.noised(s, sigma)._terms(x)
        keep = self.labels == label
        if not bool(keep.any()):
            raise ValueError(
                f"label must be one of {sorted(set(self.labels.tolist()))}, got {label}"
            )
        return torch.logsumexp(terms[:, keep], -1) - torch.logsumexp(terms, -1)

    def condition(self, label: int) -> GaussianMixture:
        """The mixture of the components with this label, weights renormalised: $p(x_0 \\mid y)$."""
        integer("label", label)
        keep = self.labels == label
        if not bool(keep.any()):
            raise ValueError(
                f"label must be one of {sorted(set(self.labels.tolist()))}, got {label}"
            )
        w = self.weights[keep]
        return GaussianMixture._derived(
            w / w.sum(), self.means[keep], self.covs[keep], self.labels[keep]
        )

    def sample(self, n: int, *, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        """Draw `n` points and their labels: shapes `(n, D)` and `(n,)`."""
        n = positive_int("n", n)
        check_generator("generator", generator)
        k = torch.multinomial(self.weights, n, replacement=True, generator=generator)
        eps = torch.randn(n, self.means.shape[1], dtype=self.means.dtype, generator=generator)
        L = torch.linalg.cholesky(self.covs)
        x = self.means[k] + (L[k] @ eps[..., None])[..., 0]
        return x, self.labels[k]


# --8<-- [end:mixture]


def mixture(
    weights: Tensor, means: Tensor, covs: Tensor, labels: Tensor | None = None
) -> GaussianMixture:
    r"""Build a validated [`GaussianMixture`][notes.diffusion.mixture.GaussianMixture].

    Args:
        weights: shape `(K,)`, a probability distribution.
        means: shape `(K, D)`, the dtype of `weights`.
        covs: shape `(K, D, D)`, symmetric positive definite.
        labels: shape `(K,)` of ints; default one class, 0.

    Returns:
        The mixture.

    Raises:
        ValueError: if the weights are not a distribution, or a covariance is not symmetric
            positive definite, or the shapes disagree.

    Examples:
        >>> m = mixture(torch.tensor([0.5, 0.5], dtype=torch.float64),
        ...             torch.tensor([[-1.0], [1.0]], dtype=torch.float64),
        ...             torch.full((2, 1, 1), 0.1, dtype=torch.float64))
        >>> abs(float(m.score(torch.zeros(1, 1, dtype=torch.float64))[0, 0]))  # symmetric: zero
        0.0

    References:
        Elucidating the Design Space of Diffusion-Based Generative Models, T. Karras et al.,
        2022, <https://arxiv.org/abs/2206.00364>. [Page](../diffusion/index.md#testbed).
    """
    given = _check_fields(weights, means, covs, labels)
    return GaussianMixture(weights, means, covs, given)


def _check_fields(weights: object, means: object, covs: object, labels: object) -> Tensor:
    """Check the fields of a mixture (labels None: one class, 0); return the labels."""
    weights = probabilities("weights", weights)
    if weights.dim() != 1:
        raise ValueError(f"weights must be 1-D with shape (K,), got {tuple(weights.shape)}")
    k = weights.shape[0]
    means = tensor("means", means, dims="K D", sizes={"K": k})
    d = means.shape[1]
    agree(("means", "covs"), (d, tensor("covs", covs, dims="K D E").shape[-1]), "the dimension D")
    covs = tensor("covs", covs, dims="K D E", sizes={"K": k, "D": d, "E": d})
    for name, t in (("means", means), ("covs", covs)):
        if t.dtype != weights.dtype:
            raise TypeError(f"{name} has dtype {t.dtype} but weights has dtype {weights.dtype}")
    tol = 1e3 * torch.finfo(covs.dtype).eps * (1 + covs.abs().amax())
    if bool(((covs - covs.mT).abs() > tol).any()):
        raise ValueError("covs must be symmetric")
    if bool((torch.linalg.eigvalsh(covs) <= 0).any()):
        raise ValueError("covs must be positive definite (every eigenvalue > 0)")
    given: object = torch.zeros(k, dtype=torch.long) if labels is None else labels
    if not isinstance(given, Tensor) or given.dtype != torch.long or given.shape != (k,):
        raise ValueError(f"labels must be an int64 tensor of shape ({k},)")
    return given
