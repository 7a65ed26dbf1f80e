"""API calls recorded like chat: marked in the sidebar (hidden on request), split on the usage pages and
in the CSV, badged in review."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from chat.models import ApiToken, Conversation, Message, Preferences

pytestmark = pytest.mark.django_db
BACKEND = "django.contrib.auth.backends.ModelBackend"


def conversation(owner, title: str, token: ApiToken | None = None, tokens: int = 0) -> Conversation:
    marks = {"source": "api", "api_token": token, "api_token_name": token.name} if token else {}
    made = Conversation.objects.create(owner=owner, title=title, model="gpt-4.1", **marks)
    Message.objects.create(conversation=made, role="user", content=f"{title} question")
    if tokens:
        Message.objects.create(
            conversation=made,
            role="assistant",
            model="gpt-4.1",
            content="answer",
            prompt_tokens=tokens,
            completion_tokens=tokens,
            cost=Decimal("0.01"),
        )
    return made


@pytest.fixture
def as_alice(client, alice):
    client.force_login(alice, backend=BACKEND)
    return client


@pytest.fixture
def both(alice):
    token, _ = ApiToken.issue(alice, "nightly report")
    return conversation(alice, "typed in the chat", tokens=100), conversation(
        alice, "from a script", token, 7
    )


def titles(client, path: str = "/c/list.json") -> list[str]:
    return [row["title"] for row in client.get(path).json()["conversations"]]


def test_the_sidebar_marks_api_conversations_with_their_token(as_alice, both):
    rows = {row["title"]: row for row in as_alice.get("/c/list.json").json()["conversations"]}
    assert (
        rows["from a script"]["source"] == "api"
        and rows["from a script"]["api_token_name"] == "nightly report"
    )
    assert rows["typed in the chat"]["source"] == "chat"


def test_a_member_hides_api_conversations_from_the_sidebar_and_search_still_finds_them(as_alice, alice, both):
    assert (
        as_alice.post("/settings/tokens/conversations/", {"hide_api_conversations": "on"}).status_code == 302
    )
    assert Preferences.of(alice).hide_api_conversations
    assert titles(as_alice) == ["typed in the chat"]
    assert "from a script" not in as_alice.get("/").content.decode()  # the first page, rendered by the server
    assert titles(as_alice, "/c/search.json?q=script") == ["from a script"]
    as_alice.post("/settings/tokens/conversations/", {})
    assert sorted(titles(as_alice)) == ["from a script", "typed in the chat"]


def test_the_usage_page_splits_chat_and_api(as_alice, both):
    html = as_alice.get("/usage/").content.decode()
    assert "Chat and API" in html and "API · nightly report" in html


def test_the_csv_says_which_lines_are_the_apis(client, admin_user, both):
    client.force_login(admin_user, backend=BACKEND)
    response = client.get(f"/usage/team.csv?month={timezone.now():%Y-%m}")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][-2:] == ["source", "api_token"]
    assert sorted((r[6], r[-2], r[-1]) for r in rows[1:]) == [
        ("14", "api", "nightly report"),
        ("200", "chat", ""),
    ]


def test_review_shows_api_and_the_tokens_name(client, django_user_model, both):
    reviewer = django_user_model.objects.create_user("rita", password="pw-rita-1", is_staff=True)
    reviewer.user_permissions.add(Permission.objects.get(codename="review_conversation"))
    client.force_login(reviewer, backend=BACKEND)
    listing = client.get("/review/").content.decode()
    assert 'data-badge="api"' in listing and "API · nightly report" in listing
    transcript = client.get(f"/review/{both[1].pk}/").content.decode()
    assert "data-source-api" in transcript and "API · nightly report" in transcript


def test_another_members_api_conversation_is_404_everywhere(client, bob, both):
    client.force_login(bob, backend=BACKEND)
    made = both[1].pk
    for path in (f"/c/{made}/", f"/c/{made}/thread.json", f"/c/{made}/export.json", f"/c/{made}/export.md"):
        assert client.get(path).status_code == 404, path
    assert client.post(f"/c/{made}/delete/").status_code == 404
    assert Conversation.objects.filter(pk=made).exists()


def test_without_api_usage_the_usage_page_has_no_chat_and_api_table(as_alice, both):
    Conversation.objects.filter(source="api").delete()
    assert "Chat and API" not in as_alice.get("/usage/").content.decode()
