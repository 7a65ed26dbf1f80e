"""Math and Markdown in a reply (chat page issue, item 7), in Debian's Chromium: LaTeX as MathML (KaTeX)
while the reply streams and after, money and code left alone, task lists, plain-text blocks and long code
lines on a phone, all under the page's strict CSP."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import sign_in
from tests.e2e.test_browser import send, send_and_wait
from tests.e2e.waits import transitions_done

SHOTS = Path("/tmp/shots")
LONG_LINE = "x = " + " + ".join(f"value_{i}" for i in range(60))

# The fake upstream echoes it back (directives removed), five characters a piece, 20 ms apart.
REPLY = (
    "Euler: $e^{i\\pi}+1=0$ and Pythagoras \\(a^2+b^2=c^2\\). It costs $5 and $10 today.\n\n"
    "$$\n\\int_0^1 x^2\\,dx = \\frac{1}{3}\n$$\n\n"
    "Also \\[\\sum_{k=1}^{n} k = \\frac{n(n+1)}{2}\\]\n\n"
    "In code `$x$` stays as it is:\n\n"
    '```python\nprice = "$y$"\n```\n\n'
    "- [ ] write the tests\n- [x] read the brief\n\n"
    "```text\nif x: return y  # not code, just text\n```\n\n"
    f"```python\n{LONG_LINE}\n```\n\n"
    "The end."
)
MESSAGE = "[fake:echo] [fake:delay=0.02] " + REPLY

BODY = "document.querySelector('article.message-assistant:last-of-type .message-body')"


@pytest.fixture
def chat(browser, live, fake_server):
    fake_server.reset()
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.csp_violations = []
    page.errors = []
    page.on("console", lambda m: "Content Security Policy" in m.text and page.csp_violations.append(m.text))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    sign_in(page, live.base_url)
    yield page
    context.close()


def check_rendered_reply(page) -> None:
    """What the whole reply must look like once it has ended (live or loaded from the history)."""
    body = page.locator("article.message-assistant").last.locator(".message-body")
    # Inline $…$ and \(…\), display $$…$$ and \[…\]: MathML, two of them in display mode.
    expect(body.locator("math")).to_have_count(4)
    assert body.locator("math[display=block]").count() == 2
    assert body.locator("mfrac").count() == 2 and body.locator("msup").count() >= 3
    text = body.inner_text()
    # Money stays text; no TeX source is left over outside the MathML.
    assert "It costs $5 and $10 today." in text
    assert "\\frac" not in text and "$$" not in text and "\\(" not in text and "\\[" not in text
    # Code spans and code blocks never get math.
    assert body.locator("code", has_text="$x$").count() == 1
    assert "$y$" in body.locator("pre code").first.inner_text()
    assert body.locator("code math, pre math").count() == 0
    # Task lists: a glyph, no checkbox and no bullet beside it.
    items = body.locator("li")
    expect(items).to_have_count(2)
    assert body.locator("input").count() == 0
    assert items.nth(0).inner_text().startswith("\u2610") and items.nth(1).inner_text().startswith("\u2611")
    styles = page.evaluate(
        f"() => [...{BODY}.querySelectorAll('li')].map(li => getComputedStyle(li).listStyleType)"
    )
    assert styles == ["none", "none"]
    # A ```text block is not highlighted.
    plain = body.locator(".code-block").nth(1)
    assert plain.locator(".code-lang").get_attribute("data-lang") == "text"
    assert plain.locator("pre code span").count() == 0
    assert "hljs" not in (plain.locator("pre code").get_attribute("class") or "")
    # The python blocks are (so the check above means something).
    assert body.locator(".code-block").nth(0).locator("pre code span").count() > 0


def test_math_renders_while_streaming_and_after_and_leaves_money_and_code_alone(chat):
    SHOTS.mkdir(parents=True, exist_ok=True)
    send(chat, MESSAGE)
    # While the reply streams: the finished formulas are MathML already.
    chat.wait_for_function(
        "() => { const a = document.querySelector('article.message-assistant:last-of-type');"
        " return a && a.classList.contains('is-streaming') && a.querySelectorAll('math').length >= 2; }",
        timeout=15_000,
    )
    chat.wait_for_function(
        "() => !window.TokenOffChat.streaming && window.TokenOffChat.pending === null", timeout=30_000
    )
    check_rendered_reply(chat)
    for scheme in ("light", "dark"):
        chat.emulate_media(color_scheme=scheme)
        transitions_done(chat)
        chat.screenshot(path=str(SHOTS / f"N-math-desktop-{scheme}.png"), full_page=True)

    chat.reload()  # from the history, rendered the same way
    check_rendered_reply(chat)
    assert chat.csp_violations == []
    assert chat.errors == []


def test_an_unfinished_formula_while_streaming_is_left_as_text(chat):
    """render.js on the partial texts a stream goes through: what is complete is math, the rest text."""
    send_and_wait(chat, "[fake:chunks=1] hello")  # the page's render module is loaded and set up
    results = chat.evaluate(
        """async (texts) => {
        const src = document.querySelector('script[src*="chat/render"]').src;
        const { renderMarkdown } = await import(src);
        const out = [];
        for (const text of texts) {
          const el = document.createElement('div');
          document.body.append(el);
          renderMarkdown(el, text, { final: false });
          out.push({ math: el.querySelectorAll('math').length, text: el.textContent });
          el.remove();
        }
        return out;
      }""",
        [
            "Done $x^2$ then $$\\frac{1}{",
            "Done $x^2$ then\n\n$$\n\\int_0^1 x\\,dx",
            "Done $x^2$ then $$\\frac{1}{2}$$",
            "Open \\(a + b and $ 5 $ or $x $ and $y$5",
            "Bad $\\frac{1}$ stays",
            "Half a display $$x^2$ so far",
        ],
    )
    assert results[0]["math"] == 1 and "$$\\frac{1}{" in results[0]["text"]
    assert results[1]["math"] == 1 and "$$\n\\int_0^1 x" in results[1]["text"]
    assert results[2]["math"] == 2
    assert results[3]["math"] == 0 and "(a + b and $ 5 $ or $x $ and $y$5" in results[3]["text"]
    # TeX that KaTeX cannot parse stays visible as its source, without a style attribute (the CSP).
    assert results[4]["math"] == 0 and "$\\frac{1}$" in results[4]["text"]
    # The end of an unfinished $$…$$ is not taken for an inline formula.
    assert results[5]["math"] == 0 and "$$x^2$ so far" in results[5]["text"]
    assert chat.csp_violations == []
    assert chat.errors == []


def test_a_long_code_line_scrolls_inside_its_block_on_a_phone(chat):
    SHOTS.mkdir(parents=True, exist_ok=True)
    chat.set_viewport_size({"width": 390, "height": 844})
    chat.reload()
    send_and_wait(chat, "[fake:echo] " + REPLY, timeout=30_000)
    check_rendered_reply(chat)
    pre = chat.locator("article.message-assistant").last.locator("pre").last
    pre.scroll_into_view_if_needed()
    widths = pre.evaluate("pre => [pre.scrollWidth, pre.clientWidth, pre.getBoundingClientRect().right]")
    assert widths[0] > widths[1] and widths[2] <= 390
    for scheme in ("light", "dark"):
        chat.emulate_media(color_scheme=scheme)
        transitions_done(chat)
        assert chat.evaluate("() => document.documentElement.scrollWidth") <= 390
        assert chat.evaluate("() => document.querySelector('.transcript').scrollWidth") <= 390
        chat.screenshot(path=str(SHOTS / f"N-math-phone-{scheme}.png"))
    assert chat.csp_violations == []
    assert chat.errors == []
