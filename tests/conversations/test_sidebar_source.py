"""The sidebar marks a conversation a script made through /api/v1/."""

import pytest

from chat.models import Conversation

pytestmark = pytest.mark.django_db


def test_an_api_conversation_is_marked_api_with_its_token_in_the_sidebar(client, alice):
    Conversation.objects.create(
        owner=alice, title="From the nightly job", model="gpt-4.1", source="api", api_token_name="nightly job"
    )
    Conversation.objects.create(owner=alice, title="A chat", model="gpt-4.1")
    client.force_login(alice, backend="django.contrib.auth.backends.ModelBackend")
    html = client.get("/").content.decode()
    assert html.count('class="conversation-source"') == 1
    assert 'title="API · nightly job">API</span><span class="conversation-title">From the nightly job' in html
