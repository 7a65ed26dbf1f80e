"""Review's admin (chat/admin/review.py): the trail and flags read-only for everyone, the notice editable."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from chat.models import audit
from chat.models.audit import AuditEntry
from tests.review import data as review_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(alice, reviewer):
    return audit.record(reviewer, AuditEntry.Action.VIEW, review_data.conversation(alice, "Secret plans"))


def test_admins_read_the_trail(client, admin_user, entry):
    client.force_login(admin_user)
    page = client.get("/admin/chat/auditentry/").content.decode()
    assert "rita" in page and "opened the transcript" in page and f"/review/{entry.conversation_ref}/" in page
    assert client.get(f"/admin/chat/auditentry/{entry.pk}/change/").status_code == 200


def test_nobody_adds_changes_or_deletes_a_row_from_the_site_superusers_included(client, admin_user, entry):
    client.force_login(admin_user)
    assert client.get("/admin/chat/auditentry/add/").status_code == 403
    assert client.get(f"/admin/chat/auditentry/{entry.pk}/delete/").status_code == 403
    response = client.post(f"/admin/chat/auditentry/{entry.pk}/change/", {"detail": "rewritten"})
    assert response.status_code == 403
    response = client.post(
        "/admin/chat/auditentry/", {"action": "delete_selected", "_selected_action": [entry.pk]}
    )
    assert AuditEntry.objects.get().detail == ""
    page = client.get(f"/admin/chat/auditentry/{entry.pk}/change/").content.decode()
    assert 'name="_save"' not in page and "deletelink" not in page


def test_staff_need_the_review_permission_as_well_to_read_it(client, staff, entry):
    staff.user_permissions.add(Permission.objects.get(codename="view_auditentry"))
    client.force_login(staff)
    assert client.get("/admin/chat/auditentry/").status_code == 403
    assert "Secret plans" not in client.get("/admin/").content.decode()
    staff.user_permissions.add(Permission.objects.get(codename="review_conversation"))
    assert client.get("/admin/chat/auditentry/").status_code == 200


def test_reviewers_without_staff_rights_do_not_reach_the_admin(client, reviewer, entry):
    client.force_login(reviewer)
    assert client.get("/admin/chat/auditentry/").status_code == 302


def test_the_notice_is_edited_in_the_admin(client, admin_user):
    from chat.models import ReviewNotice

    client.force_login(admin_user)
    response = client.post("/admin/chat/reviewnotice/add/", {"text": "We read chats for quality."})
    assert response.status_code == 302
    assert ReviewNotice.current_text() == "We read chats for quality."
    assert client.get("/admin/chat/reviewnotice/add/").status_code == 403  # one notice only


def test_admins_list_flags_read_only(client, admin_user, alice, reviewer):
    from chat.models.flags import Flag

    flag = Flag.raise_on(review_data.conversation(alice), reviewer, "Needs a look")
    client.force_login(admin_user)
    assert "Needs a look" in client.get("/admin/chat/flag/").content.decode()
    page = client.get(f"/admin/chat/flag/{flag.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.get(f"/admin/chat/flag/{flag.pk}/delete/").status_code == 403
