"""The plot helper: deterministic, inline, theme-aware SVG."""

from __future__ import annotations

import re

import pytest

from notes.plotting import PALETTE, figure, to_svg


def _plot() -> str:
    fig, ax = figure()
    ax.plot([1, 2, 3], [1, 4, 9], label="$k^2$")
    ax.set_xlabel("$k$")
    ax.legend()
    return to_svg(fig, alt="squares")


def test_svg_is_byte_identical_across_calls() -> None:
    assert _plot() == _plot()


def test_svg_is_inline_and_free_of_dates_and_fixed_colours() -> None:
    svg = _plot()
    assert svg.startswith('<svg class="notes-plot" role="img" aria-label="squares"')
    assert "<?xml" not in svg
    assert "<!DOCTYPE" not in svg
    assert "dc:date" not in svg
    assert "currentColor" in svg  # text and axes follow the page's colour
    colours = {c.lower() for c in re.findall(r"#[0-9a-fA-F]{6}\b", svg)}
    # only the palette and the translucent grey grid: no black or white that would vanish
    assert colours <= {c.lower() for c in PALETTE} | {"#888888"}
    assert not re.search(r'<svg[^>]*\swidth="', svg)  # scales to the page


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"nrows": 0}, "nrows must be an int >= 1"),
        ({"width": -1.0}, "width must be > 0"),
    ],
    ids=["zero-rows", "negative-width"],
)
def test_figure_rejects_bad_sizes(kwargs: dict[str, float], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        figure(**kwargs)  # type: ignore[arg-type]


def test_to_svg_rejects_non_figures() -> None:
    with pytest.raises(TypeError, match="fig must be a matplotlib Figure"):
        to_svg("not a figure")  # type: ignore[arg-type]


def test_dense_scatter_layers_are_rasterised_and_lines_stay_vectors() -> None:
    import torch  # noqa: PLC0415

    from notes.plotting import RASTER_THRESHOLD  # noqa: PLC0415

    x = torch.randn(5_000, 2, generator=torch.Generator().manual_seed(0))
    fig, ax = figure()
    ax.scatter(x[:, 0], x[:, 1], s=2)
    ax.plot([0, 1], [0, 1])
    dense = to_svg(fig)
    fig, ax = figure()
    ax.scatter(x[:RASTER_THRESHOLD, 0], x[:RASTER_THRESHOLD, 1], s=2)
    sparse = to_svg(fig)
    assert dense.count("<image") == 1  # the 5 000 markers, as one embedded image
    assert "<image" not in sparse  # a light layer stays vector markers
    assert "<path" in dense  # axes, ticks and the line are still vectors
    assert len(dense) < 200_000  # vector markers would weigh about 0.5 MB
