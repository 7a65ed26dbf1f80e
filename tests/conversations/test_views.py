"""The pages: the chat, one conversation, exports; owner only."""

from __future__ import annotations

import json

import pytest

from chat.models import Conversation, Message
from tests.conftest import CANARY_KEY

pytestmark = pytest.mark.django_db


@pytest.fixture
def talk(alice):
    conversation = Conversation.objects.create(owner=alice, title="Planning <b>day</b>", model="gpt-4.1")
    question = Message.objects.create(
        conversation=conversation, role="user", content="What is 2+2?", model="gpt-4.1"
    )
    Message.objects.create(
        conversation=conversation,
        parent=question,
        role="assistant",
        content="It is **4**.",
        model="gpt-4.1",
        served_model="gpt-4.1-2025-04-14",
        finish_reason="stop",
        usage={"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
    )
    return conversation


@pytest.mark.parametrize("url", ["/", "/c/1/", "/c/1/export.json", "/c/1/export.md"])
def test_pages_ask_for_a_log_in(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_chat_page_has_the_hooks_of_the_protocol(client, alice, talk):
    client.force_login(alice)
    html = client.get("/").content.decode()
    assert '<textarea name="content"' in html.replace("\n", " ") or 'name="content"' in html
    assert '<select name="model"' in html or 'name="model"' in html
    assert 'data-action="stop"' in html
    assert f'href="/c/{talk.pk}/"' in html
    assert "Planning &lt;b&gt;day&lt;/b&gt;" in html and "<b>day</b>" not in html
    assert '<option value="gpt-4.1" selected' in html.replace("\n", " ") or 'value="gpt-4.1" selected' in html


def test_a_conversation_opens_with_its_messages(client, alice, talk):
    client.force_login(alice)
    response = client.get(f"/c/{talk.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    for message in talk.messages.all():
        assert f'data-message="{message.pk}"' in html
    assert 'data-role="user"' in html and 'data-role="assistant"' in html
    assert "What is 2+2?" in html
    assert "script-src 'self'" in response["Content-Security-Policy"].split("; ")


def test_someone_elses_conversation_is_404_on_every_url(client, bob, talk):
    client.force_login(bob)
    for url in (f"/c/{talk.pk}/", f"/c/{talk.pk}/export.json", f"/c/{talk.pk}/export.md", "/c/99999/"):
        assert client.get(url).status_code == 404


def test_export_json_has_the_documented_shape(client, alice, talk):
    client.force_login(alice)
    data = json.loads(client.get(f"/c/{talk.pk}/export.json").content)
    assert set(data) >= {"id", "title", "created", "messages"}
    assert data["id"] == talk.pk and data["title"] == "Planning <b>day</b>"
    first, second = data["messages"]
    assert set(first) >= {"id", "role", "content", "model", "finish_reason", "usage", "created"}
    assert (first["role"], first["content"]) == ("user", "What is 2+2?")
    assert second["usage"]["total_tokens"] == 8 and second["finish_reason"] == "stop"


def test_export_markdown_reads_like_the_chat(client, alice, talk):
    client.force_login(alice)
    response = client.get(f"/c/{talk.pk}/export.md")
    text = response.content.decode()
    assert response["Content-Type"].startswith("text/markdown")
    assert text.startswith("# Planning <b>day</b>")
    assert text.index("What is 2+2?") < text.index("It is **4**.")


def test_no_page_shows_the_key(client, alice, talk, team_key, admin_user):
    client.force_login(alice)
    for url in ("/", f"/c/{talk.pk}/", f"/c/{talk.pk}/export.json", f"/c/{talk.pk}/export.md"):
        assert CANARY_KEY not in client.get(url).content.decode()
    client.force_login(admin_user)
    for url in ("/admin/chat/apikey/", f"/admin/chat/apikey/{team_key.pk}/change/"):
        body = client.get(url).content.decode()
        assert CANARY_KEY not in body and "sk-…" + CANARY_KEY[-4:] in body


def test_log_in_page_is_styled_like_the_site(client):
    html = client.get("/accounts/login/").content.decode()
    assert "TokenOff Chat" in html and 'name="username"' in html and "csrfmiddlewaretoken" in html


def test_log_in_then_the_chat(client, alice):
    response = client.post("/accounts/login/", {"username": "alice", "password": "alice-password-1"})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
