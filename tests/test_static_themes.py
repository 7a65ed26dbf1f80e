"""The stylesheets' dark palette, written once for the system's dark mode and once for a forced dark theme."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[1] / "static"
SYSTEM_DARK = re.compile(r':root:not\(\[data-theme="light"\]\)\s*\{([^}]*)\}')
FORCED_DARK = re.compile(r':root\[data-theme="dark"\]\s*\{([^}]*)\}')
PROPERTY = re.compile(r"(--[\w-]+)\s*:\s*([^;]+);")


def custom_properties(blocks: list[str]) -> dict[str, str]:
    return {name: value.strip() for block in blocks for name, value in PROPERTY.findall(block)}


@pytest.mark.parametrize("stylesheet", ["chat/chat.css", "review/review.css"])
def test_a_forced_dark_theme_has_the_same_colours_as_the_systems_dark_mode(stylesheet):
    css = (STATIC / stylesheet).read_text()
    system = custom_properties(SYSTEM_DARK.findall(css))
    forced = custom_properties(FORCED_DARK.findall(css))
    assert system and system == forced


@pytest.mark.parametrize("stylesheet", ["chat/chat.css", "review/review.css"])
def test_the_systems_dark_mode_gives_way_to_a_forced_light_theme(stylesheet):
    css = (STATIC / stylesheet).read_text()
    selectors = re.findall(r"@media \(prefers-color-scheme: dark\) \{\s*([^{]+?)\s*\{", css)
    assert selectors and set(selectors) == {':root:not([data-theme="light"])'}
