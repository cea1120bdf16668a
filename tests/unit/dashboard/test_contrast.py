"""The stylesheet's text colours on their backgrounds meet WCAG AA (4.5:1 for text)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import chargegrid.dashboard

CSS = Path(chargegrid.dashboard.__file__).parent / "static" / "app.css"
WHITE = "#ffffff"

# Text colour on background, as the stylesheet pairs them.
PAIRS = [
    ("--text", "--bg"),
    ("--text", "--surface"),
    ("--text-soft", "--surface"),
    ("--text-soft", "--bg"),
    ("--primary", "--surface"),
    ("--primary", "--bg"),
    (WHITE, "--primary"),
    (WHITE, "--primary-strong"),
    ("--ok", "--ok-bg"),
    ("--busy", "--busy-bg"),
    ("--info", "--info-bg"),
    ("--muted", "--muted-bg"),
    ("--bad", "--bad-bg"),
    ("--bad", "--surface"),  # a problem next to its field
    ("--warn", "--warn-bg"),
]


def variables() -> dict[str, str]:
    root = re.search(r":root\s*{([^}]*)}", CSS.read_text())
    assert root is not None
    return dict(re.findall(r"(--[a-z-]+):\s*(#[0-9a-fA-F]{6})", root[1]))


def luminance(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(one: str, other: str) -> float:
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize(("text", "background"), PAIRS)
def test_text_is_readable_on_its_background(text: str, background: str) -> None:
    colours = variables()
    ratio = contrast(colours.get(text, text), colours.get(background, background))
    assert ratio >= 4.5, f"{text} on {background}: {ratio:.2f}:1"


def test_the_formula_matches_known_ratios() -> None:
    assert round(contrast("#000000", WHITE), 1) == 21.0
    assert round(contrast("#767676", WHITE), 2) == 4.54
