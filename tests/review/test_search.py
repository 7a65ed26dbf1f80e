"""Finding conversations (chat/review/search.py): each filter, their combination, search, and keyset pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from chat.lib.keyset import Cursor
from chat.models import Conversation, Message
from chat.models.feedback import Feedback
from chat.models.flags import Flag
from chat.review.search import ReviewFilters, matching, page_of, snippets
from tests.review import data as review_data
from tests.review.data import days_ago, yesterday_noon

# Both passes: the search is full text with a statement timeout on PostgreSQL, a plain match elsewhere.
pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def found(**params) -> list[str]:
    form = ReviewFilters({k: v for k, v in params.items() if v is not None})
    assert form.is_valid(), form.errors
    return [c.title for c in matching(form.cleaned_data)]


def test_no_filter_lists_everything_most_recently_active_first(alice, bob):
    review_data.conversation(alice, "old", when=days_ago(3))
    review_data.conversation(bob, "new", when=days_ago(1))
    review_data.conversation(alice, "middle", when=days_ago(2))
    assert found() == ["new", "middle", "old"]


def test_by_user(alice, bob):
    review_data.conversation(alice, "alice's")
    review_data.conversation(bob, "bob's")
    assert found(user="bob") == ["bob's"]


def test_by_model_means_a_reply_asked_of_that_model(alice):
    review_data.conversation(alice, "on 4.1", model="gpt-4.1")
    switched = review_data.conversation(alice, "switched to 4o later", model="gpt-4.1")
    Message.objects.create(conversation=switched, role="assistant", model="gpt-4o", content="hi")
    review_data.conversation(alice, "on o3", model="o3")
    assert found(model="gpt-4o") == ["switched to 4o later"]
    assert sorted(found(model="gpt-4.1")) == ["on 4.1", "switched to 4o later"]


@pytest.mark.parametrize("outcome", ["error", "stopped", "interrupted", "length", "content_filter"])
def test_by_how_a_reply_ended(alice, outcome):
    review_data.conversation(alice, "fine")
    review_data.conversation(alice, "ended badly", finish=outcome)
    assert found(outcome=outcome) == ["ended badly"]


def test_by_feedback(alice):
    review_data.conversation(alice, "down", rating=-1)
    review_data.conversation(alice, "up", rating=1)
    review_data.conversation(alice, "none")
    assert found(feedback="down") == ["down"]
    assert found(feedback="up") == ["up"]
    assert sorted(found(feedback="any")) == ["down", "up"]


def test_by_date_range_in_utc_days(alice):
    review_data.conversation(alice, "yesterday", when=yesterday_noon())
    review_data.conversation(alice, "last week", when=days_ago(7))
    review_data.conversation(alice, "today", when=timezone.now())
    day = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    assert found(since=day, until=day) == ["yesterday"]
    assert found(since=day) == ["today", "yesterday"]
    assert found(until=day) == ["yesterday", "last week"]


def test_a_date_range_needs_activity_in_it_not_only_around_it(alice):
    long_running = review_data.conversation(alice, "started a week ago", when=days_ago(7))
    Message.objects.create(
        conversation=long_running, role="user", content="back again", created=timezone.now()
    )
    Conversation.objects.filter(pk=long_running.pk).update(updated=timezone.now())
    three_days_ago = (timezone.localdate() - dt.timedelta(days=3)).isoformat()
    assert found(since=three_days_ago, until=three_days_ago) == []
    assert found(since=three_days_ago) == ["started a week ago"]


def test_reply_filters_hold_for_one_and_the_same_reply(alice):
    """Yesterday's thumbs-down for gpt-4o: not a thumbs-down on another model, nor one from last week."""
    review_data.conversation(alice, "the one", model="gpt-4o", rating=-1, when=yesterday_noon())
    review_data.conversation(alice, "down, but last week", model="gpt-4o", rating=-1, when=days_ago(8))
    mixed = review_data.conversation(
        alice, "down on 4.1, fine on 4o", model="gpt-4.1", rating=-1, when=yesterday_noon()
    )
    Message.objects.create(
        conversation=mixed, role="assistant", model="gpt-4o", content="ok", created=yesterday_noon()
    )
    Conversation.objects.filter(pk=mixed.pk).update(updated=timezone.now())
    day = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    assert found(model="gpt-4o", feedback="down", since=day, until=day) == ["the one"]


def test_flagged_means_an_open_flag(alice, reviewer):
    flagged = review_data.conversation(alice, "flagged")
    resolved = review_data.conversation(alice, "was flagged")
    Flag.raise_on(flagged, reviewer, "look")
    Flag.raise_on(resolved, reviewer, "look").resolve(reviewer)
    review_data.conversation(alice, "never")
    assert found(flagged="on") == ["flagged"]


def test_search_finds_titles_and_every_message_of_every_user(alice, bob):
    review_data.conversation(alice, "Quarterly budget", question="numbers please")
    review_data.conversation(bob, "Misc", question="tell me about the budget for marketing")
    review_data.conversation(bob, "Holiday", answer="Lisbon in spring is lovely")
    review_data.conversation(alice, "Unrelated")
    assert sorted(found(q="budget")) == ["Misc", "Quarterly budget"]
    assert found(q="Lisbon") == ["Holiday"]
    assert found(q="budget", user="bob") == ["Misc"]


def test_search_takes_any_text_without_breaking(alice):
    review_data.conversation(alice, "Quotes")
    for text in ['"unclosed', "a & b | !c", "'; DROP TABLE chat_message; --", "(((", "-", "::*"]:
        assert isinstance(found(q=text), list)


@pytest.mark.postgres_only  # stemming and websearch syntax
def test_on_postgresql_search_is_full_text_with_stemming_and_phrases(alice):
    review_data.conversation(alice, "Running", question="The runners were running fast")
    review_data.conversation(alice, "Walk", question="A slow walk, not running at all")
    assert sorted(found(q="run")) == ["Running", "Walk"]
    assert found(q='"running fast"') == ["Running"]
    assert found(q="running -walk") == ["Running"]


@pytest.mark.postgres_only  # the GIN indexes of migration 0006
def test_on_postgresql_the_search_uses_the_gin_indexes(alice):
    review_data.conversation(alice, "x")
    form = ReviewFilters({"q": "budget"})
    assert form.is_valid()
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")  # a tiny table: make the planner show what it can use
        sql, params = matching(form.cleaned_data).query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET enable_seqscan = on")
    assert "message_search" in plan and "conversation_title_search" in plan


def test_snippets_mark_the_match_and_keep_text_as_text(alice):
    conv = review_data.conversation(
        alice, "t", question="Please <b>review</b> the budget numbers for Q3 today"
    )
    pieces = snippets([conv.pk], "budget")[conv.pk]
    assert ("budget", True) in pieces
    whole = "".join(text for text, _ in pieces)
    # Plain text pieces: the template escapes each one (PostgreSQL's headline also drops the tags).
    assert "review" in whole
    if connection.vendor != "postgresql":
        assert "<b>review</b>" in whole


def test_snippets_strip_forged_markers(alice):
    conv = review_data.conversation(alice, "t", question="evil \x02budget\x03 text \x02 and budget")
    pieces = snippets([conv.pk], "budget")[conv.pk]
    assert all("\x02" not in text and "\x03" not in text for text, _ in pieces)


# ---- pages ---------------------------------------------------------------------------------------


def make_many(owner, n: int, same_instant: bool = False) -> list[int]:
    base = timezone.now() - dt.timedelta(days=1)
    rows = [
        Conversation(
            owner=owner,
            title=f"c{i}",
            model="gpt-4.1",
            created=base,
            updated=base if same_instant else base + dt.timedelta(seconds=i),
        )
        for i in range(n)
    ]
    Conversation.objects.bulk_create(rows)
    return list(Conversation.objects.order_by("-updated", "-id").values_list("pk", flat=True))


@pytest.mark.parametrize("same_instant", [False, True])
def test_pages_walk_every_conversation_once_in_order_and_back(alice, same_instant):
    expected = make_many(alice, 23, same_instant)
    everything = matching({})
    seen, pages, after = [], [], None
    while True:
        page = page_of(everything, after=after, size=10)
        pages.append(page)
        seen += [c.pk for c in page.conversations]
        if not page.older:
            break
        after = Cursor.parse(str(page.older))
    assert seen == expected and [len(p.conversations) for p in pages] == [10, 10, 3]
    assert pages[0].newer is None and pages[1].newer is not None
    back = page_of(everything, before=Cursor.parse(str(pages[2].newer)), size=10)
    assert [c.pk for c in back.conversations] == [c.pk for c in pages[1].conversations]
    first = page_of(everything, before=Cursor.parse(str(back.newer)), size=10)
    assert [c.pk for c in first.conversations] == expected[:10] and first.newer is None


def test_the_list_pages_through_the_view(client, reviewer, alice, settings):
    settings.TOKENOFF_REVIEW_PAGE_SIZE = 10
    expected = make_many(alice, 15)
    client.force_login(reviewer)
    html = client.get("/review/?user=alice").content.decode()
    assert html.count('class="review-row"') == 10 and 'rel="next"' in html and 'rel="prev"' not in html
    older = html.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
    assert "user=alice" in older
    html = client.get("/review/" + older).content.decode()
    assert html.count('class="review-row"') == 5 and 'rel="prev"' in html and 'rel="next"' not in html
    assert f'data-conversation="{expected[-1]}"' in html


@pytest.mark.parametrize("text", [None, "", "abc", "1-", "-1", "99999999999999999999999-1", "1.5-2"])
def test_a_broken_page_link_is_the_first_page(text):
    assert Cursor.parse(text) is None


def test_counts_on_the_page(alice):
    conv = review_data.conversation(alice, "counted", rating=-1, finish="error")
    reply = Message.objects.create(
        conversation=conv, role="assistant", content="again", finish_reason="interrupted"
    )
    Feedback.objects.create(message=reply, user=alice, rating=1)
    (row,) = page_of(matching({})).conversations
    assert (row.message_count, row.failed_count, row.down_count, row.up_count, row.open_flag_count) == (
        3,
        2,
        1,
        1,
        0,
    )
