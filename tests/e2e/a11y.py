"""An accessibility audit for the browser tests: axe-core (the npm package, `npm ci`) run in the page.

The file's text is evaluated through the DevTools protocol (Playwright's evaluate), not added as a
<script>: an inline script would be refused by the site's Content-Security-Policy (script-src 'self'),
and the policy is what the test must see as a visitor would, not loosened for it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from tests.conftest import require

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
IMPACTS = ("serious", "critical")

_RUN = """async () => {
  const results = await window.axe.run(document, {resultTypes: ["violations"]});
  return results.violations.map(rule => ({
    id: rule.id,
    impact: rule.impact,
    help: rule.help,
    nodes: rule.nodes.map(node => ({
      target: node.target.map(String).join(" "),
      summary: (node.failureSummary || "").split("\\n").slice(1).join(" ").trim(),
    })),
  }));
}"""


def require_axe() -> None:
    """Skip (or, under .ci/run, fail) as the browser tests do without Chromium, saying what to run."""
    require(AXE.exists(), f"needs axe-core from npm: run `npm ci` ({AXE} is missing)")


@cache
def axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


def audit(page) -> list[dict]:
    """The page's serious and critical axe-core violations: rule id, impact, help, and each node's
    target selector with a short summary of what fails."""
    if not page.evaluate("() => Boolean(window.axe)"):
        page.evaluate(axe_source())
    return [rule for rule in page.evaluate(_RUN) if rule["impact"] in IMPACTS]


def describe(where: str, violations: list[dict], nodes: int = 6) -> list[str]:
    """One line per node of each violation, `where` first: for a failure message a person can act on."""
    lines = []
    for rule in violations:
        lines.append(f"{where}: {rule['id']} ({rule['impact']}): {rule['help']}")
        for node in rule["nodes"][:nodes]:
            lines.append(f"    {node['target']}: {node['summary'][:240]}")
        if len(rule["nodes"]) > nodes:
            lines.append(f"    … and {len(rule['nodes']) - nodes} more")
    return lines
