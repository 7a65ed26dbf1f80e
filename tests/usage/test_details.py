"""The upstream's usage details on the usage pages and in the CSV (issue 16, item 5): input read from its
prompt cache and output spent thinking, summed in SQL per day, model and person."""

from __future__ import annotations

import csv
import io

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chat.models import Conversation, Message
from tests.ws import connected, frames_until, send_frame

# The header as it was before the details: scripts read these columns by position.
EARLIER_COLUMNS = [
    "date",
    "user",
    "model",
    "replies",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cost",
    "estimated_replies",
]


def reply(owner, model: str, prompt: int, completion: int, cached: int | None, reasoning: int | None):
    conversation = Conversation.objects.create(owner=owner, title="t", model=model)
    return Message.objects.create(
        conversation=conversation,
        role="assistant",
        model=model,
        content="x",
        prompt_tokens=prompt,
        completion_tokens=completion,
        cached_tokens=cached,
        reasoning_tokens=reasoning,
    )


@pytest.fixture
def detailed(alice, bob):
    reply(alice, "o3", 5000, 3000, 1200, 2100)
    reply(alice, "o3", 4000, 1000, 300, 400)
    reply(alice, "gpt-4.1", 900, 90, None, None)  # an upstream that gave no details
    reply(bob, "o3", 7000, 7000, 6000, 5000)


def csv_lines(client, month=None) -> list[list[str]]:
    response = client.get(f"/usage/team.csv?month={month or f'{timezone.now():%Y-%m}'}")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.mark.django_db
def test_a_users_page_shows_the_cached_and_reasoning_tokens_per_model(client, alice, detailed):
    client.force_login(alice)
    html = client.get("/usage/").content.decode()
    # alice's o3: 1,500 of 9,000 input cached, 2,500 of 4,000 output reasoning; gpt-4.1 says nothing.
    # In the table by model: the one of chat and API says them again.
    by_model = html.split('id="models-heading"')[1].split("</section>")[0]
    assert by_model.count("data-usage-cached") == 1 and by_model.count("data-usage-reasoning") == 1
    assert "1,500 cached" in html and "2,500 reasoning" in html
    assert "7,500 cached" not in html  # bob's with hers
    # The day's bar says so too.
    assert ", 1500 cached, 2500 reasoning</title>" in html


@pytest.mark.django_db
def test_the_team_page_shows_them_per_person_and_per_model(client, admin_user, detailed):
    client.force_login(admin_user)
    html = client.get("/usage/team/").content.decode()
    assert "6,000 cached" in html and "5,000 reasoning" in html  # bob
    assert "1,500 cached" in html and "2,500 reasoning" in html  # alice
    assert "7,500 cached" in html and "7,500 reasoning" in html  # o3: both of them
    before_sources = html.split('id="sources-heading"')[0]  # the table of chat and API says them again
    assert before_sources.count("data-usage-cached") == 3  # alice, bob, o3: gpt-4.1 has none


@pytest.mark.django_db
def test_the_csv_gains_the_two_columns_at_the_end_with_their_sums(client, admin_user, detailed):
    client.force_login(admin_user)
    lines = csv_lines(client)
    assert lines[0][:11] == [*EARLIER_COLUMNS, "cached_tokens", "reasoning_tokens"]
    by_group = {(line[1], line[2]): line for line in lines[1:]}
    assert {group: line[9:11] for group, line in by_group.items()} == {
        ("alice", "gpt-4.1"): ["0", "0"],
        ("alice", "o3"): ["1500", "2500"],
        ("bob", "o3"): ["6000", "5000"],
    }
    # The earlier columns keep their places and meaning.
    assert by_group["alice", "o3"][3:7] == ["2", "9000", "4000", "13000"]


@pytest.mark.django_db
def test_the_pages_and_the_csv_ask_the_same_queries_however_many_rows(client, admin_user, django_user_model):
    client.force_login(admin_user)

    def queries(path: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
            if path.endswith(".csv"):
                b"".join(response.streaming_content)
        return len(captured.captured_queries)

    owner = django_user_model.objects.create_user("first")
    reply(owner, "o3", 10, 10, 5, 5)
    paths = ["/usage/", "/usage/team/", "/usage/team.csv"]
    one_row = [queries(path) for path in paths]
    for n in range(12):
        owner = django_user_model.objects.create_user(f"member{n}")
        reply(owner, f"model-{n}", 100 + n, 50, n, n)
    assert [queries(path) for path in paths] == one_row


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_a_reply_the_upstream_details_reaches_the_page_and_the_csv(
    client, alice, admin_user, team_key, fake
):
    conversation = await sync_to_async(Conversation.objects.create)(owner=alice, title="t", model="o3")
    socket = await connected(alice)
    await socket.send_json_to(
        send_frame("[fake:cached=4] [fake:reasoning=321]", conversation=conversation.pk)
    )
    done = (await frames_until(socket, "done"))[-1]
    await socket.disconnect()
    assert done["usage"]["completion_tokens_details"] == {"reasoning_tokens": 321}
    cached = done["usage"]["prompt_tokens_details"]["cached_tokens"]

    await sync_to_async(client.force_login)(alice)
    html = (await sync_to_async(client.get)("/usage/")).content.decode()
    assert f"{cached} cached" in html and "321 reasoning" in html
    await sync_to_async(client.force_login)(admin_user)
    lines = await sync_to_async(csv_lines)(client)
    assert [line[9:11] for line in lines[1:]] == [[str(cached), "321"]]
