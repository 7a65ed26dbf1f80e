"""Waits for the browser tests: for an event in the page, never for a fixed time."""

from __future__ import annotations

# Two frames first, so that a transition the last action set off has begun; then every finite
# animation and transition (a drawer's slide, the sidebar's after a resize) to its end. An endless one
# (a spinner) is left running: it never ends.
_TRANSITIONS_DONE = """() => new Promise(frame => requestAnimationFrame(() => requestAnimationFrame(frame)))
  .then(() => Promise.all(document.getAnimations()
    .filter(animation => animation.effect && animation.effect.getComputedTiming().endTime !== Infinity)
    .map(animation => animation.finished.catch(() => null))))"""

# An image of ours with a src that cannot load, as the hostile markup's <img src=x onerror=...> has:
# once its error event has fired (and a frame has been painted after it), so would theirs have.
_LOADS_SETTLED = """() => new Promise(settled => {
  const probe = new Image();
  probe.onerror = probe.onload = () => requestAnimationFrame(() => requestAnimationFrame(settled));
  probe.src = "x?probe=" + Math.random();
})"""


def transitions_done(page) -> None:
    """Wait until the page's CSS transitions and animations have ended (before a screenshot or a measure)."""
    page.evaluate(_TRANSITIONS_DONE)


def loads_settled(page) -> None:
    """Wait until an image error the page's content could trigger has had its handler's chance to run."""
    page.evaluate(_LOADS_SETTLED)
