"""Who may review, the Reviewers group of the migration, and the notice on the chat page."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from chat.models.review import DEFAULT_NOTICE, ReviewNotice
from chat.review.policy import REVIEW_PERMISSION, can_review

pytestmark = pytest.mark.django_db


def test_the_migration_makes_the_reviewers_group_with_the_permission():
    group = Group.objects.get(name="Reviewers")
    assert [f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()] == [
        REVIEW_PERMISSION
    ]


def test_who_can_review(alice, staff, reviewer, admin_user):
    assert [can_review(u) for u in (alice, staff, reviewer, admin_user)] == [False, False, True, True]


def test_the_chat_page_says_review_is_on(client, alice):
    client.force_login(alice)
    html = client.get("/").content.decode()
    assert "data-review-notice" in html and DEFAULT_NOTICE in html


def test_the_notice_is_editable_and_escaped(client, alice):
    ReviewNotice.objects.create(text="Managers may read chats. <script>alert(1)</script>")
    client.force_login(alice)
    html = client.get("/").content.decode()
    assert "Managers may read chats. &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html


def test_the_notice_is_a_single_row(alice):
    ReviewNotice.objects.create(text="first")
    ReviewNotice(text="second").save()
    assert list(ReviewNotice.objects.values_list("text", flat=True)) == ["second"]


def test_with_review_off_there_is_no_notice(client, alice, settings):
    settings.TOKENOFF_REVIEW_ENABLED = False
    client.force_login(alice)
    assert "data-review-notice" not in client.get("/").content.decode()
    assert ReviewNotice.current_text() == ""
