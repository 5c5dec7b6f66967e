r"""Guidance: classifier guidance and classifier-free guidance, on any score or noise prediction.

Both push the unconditional score toward the class: classifier guidance adds
$s\,\nabla\log p(y \mid x_t)$; classifier-free guidance mixes two predictions,
$\hat\varepsilon_u + s(\hat\varepsilon_c - \hat\varepsilon_u)$. At $s = 1$ both are the
conditional score; at $s > 1$ the result is the score of $p_t(x \mid y)^s p_t(x)^{1-s}$ at every
$t$, which is not the noised version of the tilted density $p(x_0 \mid y)^s p(x_0)^{1-s}$.
"""

from __future__ import annotations

from torch import Tensor

from notes._validate import real, shapes_match, tensor

__all__ = ["classifier_free_guidance", "classifier_guidance"]


# --8<-- [start:guidance]
def classifier_free_guidance(uncond: Tensor, cond: Tensor, scale: float) -> Tensor:
    r"""$\hat\varepsilon_u + s\,(\hat\varepsilon_c - \hat\varepsilon_u)$, equally of scores.

    $$ \tilde\varepsilon = \hat\varepsilon_u + s(\hat\varepsilon_c - \hat\varepsilon_u)
       = (1 + w)\hat\varepsilon_c - w\hat\varepsilon_u, \quad s = 1 + w $$

    Args:
        uncond: the unconditional prediction, shape `(*, D)`.
        cond: the conditional prediction, shape of `uncond`.
        scale: $s$, finite ($s = 0$ unconditional, $s = 1$ conditional).

    Returns:
        Shape of `uncond`.

    Examples:
        >>> import torch
        >>> classifier_free_guidance(torch.tensor([1.0]), torch.tensor([2.0]), 3.0).tolist()
        [4.0]

    References:
        Classifier-Free Diffusion Guidance, J. Ho, T. Salimans, 2022,
        <https://arxiv.org/abs/2207.12598>. [Page](../diffusion/guidance.md#cfg).
    """
    uncond, cond = tensor("uncond", uncond), tensor("cond", cond)
    shapes_match(["uncond", "cond"], [uncond, cond])
    scale = real("scale", scale)
    return uncond + scale * (cond - uncond)


def classifier_guidance(score: Tensor, class_grad: Tensor, scale: float) -> Tensor:
    r"""$\nabla\log p_t(x) + s\,\nabla\log p_t(y \mid x)$.

    Args:
        score: the unconditional score, shape `(*, D)`.
        class_grad: $\nabla_x \log p_t(y \mid x)$, shape of `score`.
        scale: $s$, finite.

    Returns:
        Shape of `score`.

    Examples:
        >>> import torch
        >>> classifier_guidance(torch.tensor([1.0]), torch.tensor([0.5]), 2.0).tolist()
        [2.0]

    References:
        Diffusion Models Beat GANs on Image Synthesis, P. Dhariwal, A. Nichol, 2021,
        <https://arxiv.org/abs/2105.05233>. [Page](../diffusion/guidance.md#classifier).
    """
    score, class_grad = tensor("score", score), tensor("class_grad", class_grad)
    shapes_match(["score", "class_grad"], [score, class_grad])
    scale = real("scale", scale)
    return score + scale * class_grad


# --8<-- [end:guidance]
