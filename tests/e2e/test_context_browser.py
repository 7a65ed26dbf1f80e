"""Where the context starts, in Debian's Chromium: on a conversation longer than its model's window the
transcript marks where what is sent begins, and "Summarise earlier messages" writes a summary (through the
openai SDK to the fake upstream) shown collapsed and expandable, which the next request then carries."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.test_browser import send_and_wait

MODEL = "gpt-4o-mini"
SEED = f"""
from django.contrib.auth.models import User
ChatModel.objects.filter(name={MODEL!r}).update(context_window=1500, max_output_tokens=200)
alice = User.objects.get(username="alice")
conversation = Conversation.objects.create(
    owner=alice, title="A long one", model={MODEL!r}, system_prompt="Be kind."
)
parent = None
for turn in range(40):
    for role in ("user", "assistant"):
        content = f"{{role}} message {{turn}}: " + "the quick brown fox jumps over the lazy dog " * 2
        parent = Message.objects.create(conversation=conversation, parent=parent, role=role, content=content)
print(conversation.pk)
"""


@pytest.fixture
def long_chat(browser, live, fake_server):
    from tests.e2e.pages import open_chat

    fake_server.reset()
    conversation = live.shell(SEED).strip().splitlines()[-1]
    context, page = open_chat(browser, live.base_url, f"/c/{conversation}/")
    yield page
    context.close()
    live.shell(
        f"ChatModel.objects.filter(name={MODEL!r}).update(context_window=128000, max_output_tokens=None)"
    )
    live.shell(f"Conversation.objects.filter(pk={conversation}).delete()")


def test_the_marker_and_a_summary_that_the_next_request_carries(long_chat, fake_server):
    page = long_chat
    marker = page.locator(".context-marker")
    expect(marker).to_contain_text("Earlier messages are not sent to the model")
    # The line stands right before the first message sent after the first exchange.
    assert marker.evaluate("m => m.nextElementSibling.classList.contains('message')")
    page.get_by_role("button", name="Summarise earlier messages").click()
    summary = page.locator("details.context-summary")
    expect(summary).to_be_visible()
    expect(marker).to_have_count(0)
    expect(summary.locator("summary")).to_have_text(re.compile(r"Summary of \d+ earlier messages"))
    body = summary.locator(".context-summary-body")
    expect(body).to_be_hidden()  # collapsed
    summary.locator("summary").click()
    expect(body).to_be_visible()
    expect(body).to_contain_text("Summary (fake upstream)")
    written = body.inner_text()
    send_and_wait(page, "[fake:chunks=2] and now?")
    request = [r for r in fake_server.requests if r.body and r.body.get("stream")][-1]
    sent = request.body["messages"]
    assert sent[0] == {"role": "system", "content": "Be kind."}
    assert sent[3]["role"] == "system" and sent[3]["content"].endswith(written)
    assert page.csp_violations == []
