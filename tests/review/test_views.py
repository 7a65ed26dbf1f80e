"""The review pages (chat/review/views.py): who gets in, what they see, and the trail every reading leaves."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from django.contrib.auth.models import Permission
from django.db import connection

from chat.models import Message
from chat.models.audit import AuditEntry
from chat.models.feedback import Feedback
from chat.models.flags import Flag
from tests.review import data as review_data
from tests.ws import connected

# Both passes: the list and its search run other queries on PostgreSQL (full text, a statement timeout).
pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'


@pytest.fixture
def talk(alice):
    return review_data.conversation(
        alice, "Planning the offsite", answer="Here is a plan: **day one**.", rating=-1, comment="Too vague"
    )


def review_urls(conversation_id: int, flag_id: int) -> list[tuple[str, str]]:
    return [
        ("get", "/review/"),
        ("get", "/review/?q=plan"),
        ("get", f"/review/{conversation_id}/"),
        ("get", "/review/flags/"),
        ("post", f"/review/{conversation_id}/flag/"),
        ("post", f"/review/flags/{flag_id}/resolve/"),
        ("post", "/review/export/"),
    ]


@pytest.fixture
def open_flag(talk, admin_user):
    return Flag.raise_on(talk, admin_user, "Check the tone")


def post_data(conversation_id: int) -> dict:
    return {"note": "Mine now", "ids": [str(conversation_id)], "format": "json"}


# ---- who gets in ---------------------------------------------------------------------------------


def test_review_asks_for_a_log_in(client, talk, open_flag):
    for method, url in review_urls(talk.pk, open_flag.pk):
        response = getattr(client, method)(url, post_data(talk.pk) if method == "post" else None)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url


@pytest.mark.parametrize("who", ["alice", "bob", "staff"])
def test_plain_users_and_staff_without_the_permission_get_nothing(client, request, talk, open_flag, who, bob):
    user = request.getfixturevalue(who)
    client.force_login(user)
    for method, url in [*review_urls(talk.pk, open_flag.pk), ("get", "/review/999999/")]:
        response = getattr(client, method)(url, post_data(talk.pk) if method == "post" else None)
        body = response.content.decode()
        assert response.status_code == 403, url
        assert "Planning the offsite" not in body and "day one" not in body and "Check the tone" not in body
        assert "Reviewers group" in body  # says why, and who can change it
    # Nothing happened: no flag, no flag resolved, no export, and nothing recorded.
    assert list(Flag.objects.values_list("note", "resolved_at")) == [("Check the tone", None)]
    assert not AuditEntry.objects.exists()


def test_a_missing_conversation_and_a_denied_one_answer_alike(client, bob, talk):
    client.force_login(bob)
    existing, missing = client.get(f"/review/{talk.pk}/"), client.get("/review/999999/")
    assert existing.status_code == missing.status_code == 403
    without_token = [re.sub(r'value="[^"]{64}"', "", r.content.decode()) for r in (existing, missing)]
    assert without_token[0] == without_token[1]


@pytest.mark.parametrize("who", ["reviewer", "admin_user"])
def test_reviewers_and_superusers_read_every_conversation(client, request, talk, who):
    client.force_login(request.getfixturevalue(who))
    listing = client.get("/review/")
    assert listing.status_code == 200 and "Planning the offsite" in listing.content.decode()
    transcript = client.get(f"/review/{talk.pk}/")
    assert transcript.status_code == 200 and "Here is a plan" in transcript.content.decode()


def test_a_user_granted_the_permission_directly_gets_in(client, staff, talk):
    staff.user_permissions.add(Permission.objects.get(codename="review_conversation"))
    client.force_login(staff)
    assert client.get(f"/review/{talk.pk}/").status_code == 200


def test_an_inactive_reviewer_is_refused(reviewer, talk):
    from chat.review.policy import can_review

    reviewer.is_active = False
    assert not can_review(reviewer)


def test_with_review_off_the_pages_are_not_there(client, settings, reviewer, admin_user, talk):
    settings.TOKENOFF_REVIEW_ENABLED = False
    for user in (reviewer, admin_user):
        client.force_login(user)
        assert client.get("/review/").status_code == 404
        assert client.get(f"/review/{talk.pk}/").status_code == 404
        assert 'href="/review/"' not in client.get("/").content.decode()
    assert not AuditEntry.objects.exists()


def test_the_review_link_shows_for_reviewers_only(client, alice, staff, reviewer, admin_user):
    for user, shown in [(alice, False), (staff, False), (reviewer, True), (admin_user, True)]:
        client.force_login(user)
        assert ('href="/review/"' in client.get("/").content.decode()) is shown, user


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_no_frame_shows_another_users_conversation_to_a_reviewer(reviewer, talk):
    socket = await connected(reviewer)
    await socket.send_json_to({"type": "attach", "conversation": talk.pk})
    answer = await socket.receive_json_from()
    assert answer["type"] == "error" and answer["code"] == "not_found"
    await socket.disconnect()


def test_the_owners_own_urls_stay_owner_only_for_reviewers(client, reviewer, talk):
    client.force_login(reviewer)
    for url in (f"/c/{talk.pk}/", f"/c/{talk.pk}/export.json", f"/c/{talk.pk}/export.md"):
        assert client.get(url).status_code == 404


def test_review_pages_are_never_cached(client, reviewer, talk):
    client.force_login(reviewer)
    for url in ("/review/", f"/review/{talk.pk}/", "/review/flags/"):
        response = client.get(url)
        assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
        assert "default-src 'self'" in response["Content-Security-Policy"].split("; ")


# ---- the transcript ------------------------------------------------------------------------------


def test_the_transcript_has_the_chat_pages_markup_and_each_messages_facts(client, reviewer, talk):
    client.force_login(reviewer)
    html = client.get(f"/review/{talk.pk}/").content.decode()
    question, reply = talk.messages.order_by("id")
    assert f'data-role="user" data-message="{question.pk}">What is 2+2?</div>' in html
    assert f'class="message-body markdown is-raw" data-role="assistant" data-message="{reply.pk}"' in html
    assert "asked <code>gpt-4.1</code>" in html and "served <code>gpt-4.1-2025-04-14</code>" in html
    assert "5 in · 3 out · 8 tokens" in html
    assert 'data-finish="stop"' in html
    assert (
        f'datetime="{reply.created.isoformat()}"' in html
        or reply.created.strftime("%Y-%m-%d %H:%M:%S") in html
    )
    assert "Thumbs down" in html and "Too vague" in html
    # The Markdown text travels as JSON for render.js, exactly as on the chat page.
    assert "Here is a plan: **day one**." in html
    assert 'id="review-messages"' in html and "review/review.js" in html and "chat/render.js" in html


def test_a_failed_or_stopped_reply_says_how_it_ended(client, reviewer, alice):
    conv = review_data.conversation(alice, finish="error", answer="partial")
    Message.objects.filter(conversation=conv, role="assistant").update(
        error_code="upstream_unavailable", usage=None
    )
    client.force_login(reviewer)
    html = client.get(f"/review/{conv.pk}/").content.decode()
    assert 'data-finish="error"' in html and "finish: error (upstream_unavailable)" in html
    assert "no token count" in html


def test_a_missing_conversation_is_404_for_a_reviewer_and_records_nothing(client, reviewer):
    client.force_login(reviewer)
    assert client.get("/review/999999/").status_code == 404
    assert not AuditEntry.objects.exists()


# ---- the audit trail -----------------------------------------------------------------------------


def test_every_opening_of_a_transcript_is_recorded(client, reviewer, talk):
    client.force_login(reviewer)
    client.get(f"/review/{talk.pk}/")
    client.get(f"/review/{talk.pk}/")
    rows = list(AuditEntry.objects.order_by("id"))
    assert len(rows) == 2
    for row in rows:
        assert (row.actor, row.actor_name, row.action) == (reviewer, "rita", "view")
        assert (row.conversation_ref, row.conversation_title, row.owner_name) == (
            talk.pk,
            "Planning the offsite",
            "alice",
        )
        assert row.created is not None


def test_listing_records_searches_but_not_plain_browsing(client, reviewer, talk):
    client.force_login(reviewer)
    client.get("/review/")
    client.get("/review/?feedback=down")
    assert not AuditEntry.objects.exists()
    client.get("/review/?q=plan&feedback=down")
    (row,) = AuditEntry.objects.all()
    assert row.action == "search" and "q=plan" in row.detail and "feedback=down" in row.detail


# ---- flags ---------------------------------------------------------------------------------------


def test_a_reviewer_flags_with_a_note_and_the_flagged_view_lists_it(client, reviewer, talk):
    client.force_login(reviewer)
    response = client.post(f"/review/{talk.pk}/flag/", {"note": "  Promised a refund  "})
    assert response.status_code == 302 and response["Location"] == f"/review/{talk.pk}/"
    flag = Flag.objects.get()
    assert (flag.conversation, flag.created_by, flag.note, flag.is_open) == (
        talk,
        reviewer,
        "Promised a refund",
        True,
    )
    entry = AuditEntry.objects.get(action="flag")
    assert (
        entry.actor == reviewer and entry.conversation_ref == talk.pk and entry.detail == "Promised a refund"
    )

    flagged = client.get("/review/flags/").content.decode()
    assert "Promised a refund" in flagged and "Planning the offsite" in flagged
    assert client.get("/review/?flagged=on").content.decode().count('class="review-row"') == 1
    assert 'data-badge="flagged"' in client.get("/review/").content.decode()


def test_a_flag_needs_a_note_and_a_bad_one_is_kept_for_correction(client, reviewer, talk):
    client.force_login(reviewer)
    response = client.post(f"/review/{talk.pk}/flag/", {"note": "   "})
    assert response.status_code == 400 and "This field is required." in response.content.decode()
    too_long = "x" * 1001
    response = client.post(f"/review/{talk.pk}/flag/", {"note": too_long})
    html = response.content.decode()
    assert response.status_code == 400 and too_long in html and "at most 1000 characters" in html
    assert not Flag.objects.exists()


def test_after_a_refused_flag_the_page_still_leads_back_to_the_list(client, reviewer, talk):
    client.force_login(reviewer)
    here = f"/review/{talk.pk}/?back=feedback%3Ddown"
    assert 'href="/review/?feedback=down"' in client.get(here).content.decode()
    html = client.post(f"/review/{talk.pk}/flag/", {"note": "", "next": here}).content.decode()
    assert f'name="next" value="/review/{talk.pk}/?back=feedback%3Ddown"' in html
    assert 'href="/review/?feedback=down"' in html
    response = client.post(f"/review/{talk.pk}/flag/", {"note": "Second try", "next": here})
    assert response["Location"] == here


def test_resolving_a_flag_moves_it_to_resolved_and_is_recorded(client, reviewer, talk, open_flag):
    client.force_login(reviewer)
    response = client.post(f"/review/flags/{open_flag.pk}/resolve/", {"next": "/review/flags/"})
    assert response.status_code == 302 and response["Location"] == "/review/flags/"
    open_flag.refresh_from_db()
    assert open_flag.resolved_by == reviewer and not open_flag.is_open
    assert AuditEntry.objects.get(action="resolve").conversation_ref == talk.pk
    assert "Check the tone" not in client.get("/review/flags/").content.decode()
    assert "Check the tone" in client.get("/review/flags/?state=resolved").content.decode()
    client.post(f"/review/flags/{open_flag.pk}/resolve/")  # twice changes nothing
    assert AuditEntry.objects.filter(action="resolve").count() == 1


def test_next_never_leaves_the_site(client, reviewer, open_flag):
    client.force_login(reviewer)
    response = client.post(f"/review/flags/{open_flag.pk}/resolve/", {"next": "https://evil.example/"})
    assert response["Location"] == f"/review/{open_flag.conversation_id}/"


# ---- export --------------------------------------------------------------------------------------


def test_export_json_holds_the_selected_conversations_and_is_recorded(client, reviewer, talk, bob):
    other = review_data.conversation(bob, "Bob's question", answer="Bob's answer")
    review_data.conversation(bob, "Not selected")
    client.force_login(reviewer)
    response = client.post("/review/export/", {"ids": [talk.pk, other.pk], "format": "json"})
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].startswith('attachment; filename="review-export-')
    document = json.loads(response.content)
    assert document["exported_by"] == "rita"
    by_title = {c["title"]: c for c in document["conversations"]}
    assert set(by_title) == {"Planning the offsite", "Bob's question"}
    planning = by_title["Planning the offsite"]
    assert planning["owner"] == "alice" and planning["id"] == talk.pk
    assert [m["role"] for m in planning["messages"]] == ["user", "assistant"]
    assert planning["messages"][1]["served_model"] == "gpt-4.1-2025-04-14"
    assert planning["messages"][1]["feedback"] == [
        {"rating": -1, "comment": "Too vague", "created": planning["messages"][1]["feedback"][0]["created"]}
    ]
    exported = AuditEntry.objects.filter(action="export")
    assert sorted(exported.values_list("conversation_ref", flat=True)) == sorted([talk.pk, other.pk])
    assert all(e.actor == reviewer for e in exported)


def test_export_markdown_is_a_zip_with_one_file_per_conversation(client, reviewer, talk):
    client.force_login(reviewer)
    response = client.post("/review/export/", {"ids": [talk.pk], "format": "md"})
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    (name,) = archive.namelist()
    assert name == f"alice/{talk.pk}-planning-the-offsite.md"
    text = archive.read(name).decode()
    assert text.startswith("# Planning the offsite") and "by alice" in text and "Here is a plan" in text


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"format": "json"}, "Tick the conversations"),
        ({"ids": ["1; DROP TABLE"], "format": "json"}, "Tick the conversations"),
        ({"ids": ["1"], "format": "pdf"}, "Choose JSON or Markdown"),
        ({"ids": ["999999"], "format": "json"}, "no longer exist"),
    ],
)
def test_a_bad_export_request_says_what_is_wrong(client, reviewer, data, error):
    client.force_login(reviewer)
    response = client.post("/review/export/", {**data, "next": "/review/?feedback=down"}, follow=True)
    assert response.redirect_chain[-1][0] == "/review/?feedback=down"
    assert error in response.content.decode()
    assert not AuditEntry.objects.filter(action="export").exists()


def test_an_export_over_the_limit_is_refused(client, settings, reviewer, alice):
    settings.TOKENOFF_REVIEW_EXPORT_LIMIT = 2
    ids = [review_data.conversation(alice).pk for _ in range(3)]
    client.force_login(reviewer)
    response = client.post("/review/export/", {"ids": ids, "format": "json"}, follow=True)
    assert "at most 2 conversations, not 3" in response.content.decode()


# ---- hostile text stays text ---------------------------------------------------------------------


def test_hostile_html_in_titles_text_replies_notes_and_comments_is_escaped(
    client, reviewer, django_user_model
):
    mallory = django_user_model.objects.create_user("mallory", password="mallory-password-1")
    conv = review_data.conversation(
        mallory, HOSTILE + " zebra", question=HOSTILE + " zebra", answer=HOSTILE, rating=-1, comment=HOSTILE
    )
    client.force_login(reviewer)
    client.post(f"/review/{conv.pk}/flag/", {"note": HOSTILE})
    pages = [
        client.get("/review/").content.decode(),
        client.get("/review/?q=zebra").content.decode(),
        client.get(f"/review/{conv.pk}/").content.decode(),
        client.get("/review/flags/").content.decode(),
    ]
    for html in pages:
        assert "<script>window.__pwned" not in html and "<img src=x" not in html
        assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    # In the JSON for render.js, < is escaped too, so the text cannot close the script element.
    assert "\\u003Cscript\\u003Ewindow.__pwned=1" in pages[2]


# ---- the list ------------------------------------------------------------------------------------


def test_the_list_shows_what_a_reviewer_scans_for(client, reviewer, talk, alice):
    review_data.conversation(alice, "Broken one", finish="error")
    client.force_login(reviewer)
    html = client.get("/review/").content.decode()
    assert html.index("Broken one") < html.index("Planning the offsite")  # most recent first
    assert 'data-badge="down"' in html and 'data-badge="failed"' in html
    assert "2 messages" in html and "alice" in html


def test_bad_filters_are_reported_and_kept(client, reviewer):
    client.force_login(reviewer)
    response = client.get("/review/?since=yesterday&until=2020-01-01&user=nobody&outcome=boom")
    html = response.content.decode()
    assert response.status_code == 200 and "Some filters are not valid" in html
    assert 'value="yesterday"' in html  # what was typed is kept for correcting
    assert "Enter a valid date." in html and "Select a valid choice." in html


def test_the_list_costs_the_same_queries_for_3_or_30_conversations(
    client, reviewer, alice, django_assert_num_queries
):
    client.force_login(reviewer)
    for _ in range(3):
        review_data.conversation(alice, "plan", rating=-1)
    # session, user, user permissions, group permissions, the page's ids, the page's details, user
    # list, catalogue, open flags count; on PostgreSQL also the time limit and, inside the test's
    # transaction, the savepoint around it.
    queries = 10 if connection.vendor != "postgresql" else 13
    with django_assert_num_queries(queries):
        client.get("/review/?feedback=down")
    for _ in range(27):
        review_data.conversation(alice, "plan", rating=-1)
    with django_assert_num_queries(queries):
        response = client.get("/review/?feedback=down")
    assert response.content.decode().count('class="review-row"') == 30
    # A search adds the snippets and its audit row.
    with django_assert_num_queries(queries + 2):
        client.get("/review/?q=plan")


def test_the_transcript_costs_the_same_queries_however_long(
    client, reviewer, alice, django_assert_num_queries
):
    conv = review_data.conversation(alice)
    client.force_login(reviewer)
    # session, user, permissions (2), conversation+owner, audit row, messages, feedback, flags, open flags,
    # the summaries sent in place of earlier messages, the questions' attachments
    with django_assert_num_queries(13):
        client.get(f"/review/{conv.pk}/")
    reply = conv.messages.last()
    for i in range(20):
        Message.objects.create(conversation=conv, role="user", content=f"more {i}")
        extra = Message.objects.create(conversation=conv, role="assistant", content=f"reply {i}")
        Feedback.objects.create(message=extra, user=alice, rating=1)
    assert reply is not None
    with django_assert_num_queries(13):
        client.get(f"/review/{conv.pk}/")


@pytest.mark.postgres_only  # statement_timeout
def test_a_search_too_slow_is_cancelled_with_advice_and_still_recorded(client, settings, reviewer, alice):
    settings.TOKENOFF_REVIEW_QUERY_SECONDS = 0.001
    conv = review_data.conversation(alice)
    Message.objects.bulk_create(
        [Message(conversation=conv, role="user", content="some words to index " * 20) for _ in range(3000)]
    )
    client.force_login(reviewer)
    response = client.get("/review/?q=-words")  # only a negation: every message is read
    html = response.content.decode()
    assert response.status_code == 200 and "data-too-slow" in html and "Narrow it down" in html
    assert AuditEntry.objects.get().action == "search"
    settings.TOKENOFF_REVIEW_QUERY_SECONDS = 5.0
    assert "data-too-slow" not in client.get("/review/").content.decode()  # the connection is fine


def test_the_transcript_shows_a_summary_where_it_stands_in_for_earlier_messages(client, reviewer, alice):
    from chat.models.conversations import Summary

    conv = review_data.conversation(alice)
    first = conv.messages.order_by("id").first()
    Summary.objects.create(
        conversation=conv, until=first, content="They agreed on <b>Tuesday</b>.", covered=1
    )
    client.force_login(reviewer)
    page = client.get(f"/review/{conv.pk}/").content.decode()
    block = page[page.index('class="context-summary review-summary"') :]
    assert "Summary of 1 earlier message, sent to the model in their place" in block
    assert "They agreed on &lt;b&gt;Tuesday&lt;/b&gt;." in block
    # Right after the message it covers up to, the original still in the transcript.
    assert page.index(f'data-message="{first.pk}"') < page.index("context-summary review-summary")
