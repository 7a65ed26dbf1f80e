"""The demo answers what the user wrote: a short introduction, then the message itself, unquoted, so that
its Markdown, code and tables come back rendered on the page."""

from __future__ import annotations

from pathlib import Path

import pytest
from openai import OpenAI

from chat.demo.directives import canned_reply, strip_directives, tokenize
from tests.e2e.conftest import browser, live  # noqa: F401 (the browser test's fixtures)
from tests.e2e.test_browser import send_and_wait

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TYPED = """Here is **bold**, a list and some code:

- one
- two

```python
def double(x):
    return 2 * x
```

| name | score |
|------|------:|
| Ada  | 10    |
| Bo   | 7     |"""


def test_the_reply_is_a_short_introduction_then_the_message_as_written():
    reply = canned_reply(TYPED)
    intro, echo = reply.split("\n\n---\n\n", 1)
    assert echo == TYPED  # unquoted: its code fence and table survive
    assert "offline demo" in intro and len(intro) < 300
    assert ">" not in reply  # no blockquote flattens it
    assert "".join(tokenize(reply)) == reply


def test_an_empty_message_still_gets_the_showcase():
    reply = canned_reply("")
    assert "```python" in reply and "\n- " in reply


def test_the_fake_upstream_streams_the_echo(fake_server):
    fake_server.reset()
    client = OpenAI(base_url=fake_server.base_url, api_key="sk-test", max_retries=0)
    completion = client.chat.completions.create(
        model="gpt-4.1", messages=[{"role": "user", "content": "[fake:delay=0] " + TYPED}]
    )
    content = completion.choices[0].message.content
    assert content == canned_reply(strip_directives("[fake:delay=0] " + TYPED))
    assert content.endswith(TYPED)


@pytest.fixture
def page(browser, live, fake_server):  # noqa: F811
    fake_server.reset()
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.goto(f"{live.base_url}/accounts/login/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "alice-live-password-1")
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(f"{live.base_url}/")
    yield page
    context.close()


def test_typed_markdown_code_and_table_come_back_rendered(page):
    send_and_wait(page, TYPED)
    reply = page.locator("[data-role=assistant]").last
    assert reply.locator("table th").all_inner_texts() == ["name", "score"]
    assert reply.locator("table td").all_inner_texts() == ["Ada", "10", "Bo", "7"]
    assert "return 2 * x" in reply.locator("pre code").inner_text()
    assert reply.locator("strong").all_inner_texts()[-1] == "bold"
    assert reply.locator("li").all_inner_texts() == ["one", "two"]
    assert reply.locator("blockquote").count() == 0
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "demo-echo.png"))
