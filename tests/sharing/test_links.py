"""Share links: only the owner shares, updating keeps the URL, revoke/expiry/deactivation 404, the audit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from chat.models import AuditEntry, ShareLink, SiteSettings
from chat.models.sharing import VIEW_WINDOW
from tests.sharing.conftest import make_conversation

pytestmark = pytest.mark.django_db
Action = AuditEntry.Action


def share(client, conversation, **fields) -> dict:
    response = client.post(f"/c/{conversation.pk}/share/", fields)
    assert response.status_code == 200, response.content
    return response.json()


def test_the_owner_shares_and_another_member_reads_the_branch_on_show(as_alice, as_bob, conversation):
    body = share(as_alice, conversation)
    assert body["url"].startswith("/s/") and body["expires"] is None and body["updated"]
    page = as_bob.get(body["url"])
    assert page.status_code == 200
    text = page.content.decode()
    assert "Where to go in May?" in text and "Old question" not in text
    assert 'name="robots" content="noindex"' in text and page["X-Robots-Tag"] == "noindex"
    assert "composer" not in text  # read-only: no message box
    assert "<script>alert(1)</script>" not in text  # escaped in the page; render.js sanitizes the Markdown


def test_another_members_conversation_is_a_404_to_share_or_revoke(as_bob, conversation):
    assert as_bob.post(f"/c/{conversation.pk}/share/").status_code == 404
    assert as_bob.get(f"/c/{conversation.pk}/share/").status_code == 404
    assert as_bob.post(f"/c/{conversation.pk}/share/revoke/").status_code == 404
    assert not ShareLink.objects.exists()


def test_updating_keeps_the_url_and_takes_a_new_snapshot(as_alice, as_bob, conversation):
    first = share(as_alice, conversation)
    conversation.title = "Trip plan, revised"
    conversation.save()
    assert "revised" not in as_bob.get(first["url"]).content.decode()  # a snapshot, not a live view
    second = share(as_alice, conversation)
    assert second["url"] == first["url"] and second["updated"] > first["updated"]
    assert "revised" in as_bob.get(first["url"]).content.decode()
    assert ShareLink.objects.count() == 1


def test_a_revoked_link_is_a_404_and_sharing_again_makes_a_new_url(as_alice, as_bob, conversation):
    url = share(as_alice, conversation)["url"]
    assert as_alice.post(f"/c/{conversation.pk}/share/revoke/").json() == {"revoked": 1}
    assert as_bob.get(url).status_code == 404
    assert as_alice.get(f"/c/{conversation.pk}/share/").json()["url"] is None
    assert share(as_alice, conversation)["url"] != url


def test_an_expired_link_is_a_404(as_alice, as_bob, conversation):
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    body = share(as_alice, conversation, expires=tomorrow)
    assert body["expires"] == tomorrow
    assert as_bob.get(body["url"]).status_code == 200
    ShareLink.objects.update(expires=timezone.now() - dt.timedelta(seconds=1))
    assert as_bob.get(body["url"]).status_code == 404


@pytest.mark.parametrize("expires", ["2020-01-01", "9999-12-31", "tomorrow", "2026-02-30", "1" * 300])
def test_odd_or_far_off_expiry_dates_are_a_400(as_alice, conversation, expires):
    response = as_alice.post(f"/c/{conversation.pk}/share/", {"expires": expires})
    assert response.status_code == 400 and response.json()["error"]
    assert not ShareLink.objects.exists()


def test_a_deactivated_owners_links_stop_working(as_alice, as_bob, alice, conversation):
    url = share(as_alice, conversation)["url"]
    alice.is_active = False
    alice.save()
    assert as_bob.get(url).status_code == 404


def test_a_deleted_conversations_link_is_a_404(as_alice, as_bob, conversation):
    url = share(as_alice, conversation)["url"]
    conversation.owner_deleted = timezone.now()  # deleted while flagged: kept for review only
    conversation.save()
    assert as_bob.get(url).status_code == 404
    conversation.delete()
    assert as_bob.get(url).status_code == 404


@pytest.mark.parametrize("token", ["x", "../../etc", "%00", "a" * 65, "a" * 32, "ä" * 32])
def test_odd_tokens_are_a_404(as_bob, token):
    assert as_bob.get(f"/s/{token}/").status_code == 404


def test_anonymous_visitors_go_to_log_in_unless_public_links_are_on(client, as_alice, conversation):
    url = share(as_alice, conversation)["url"]
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    SiteSettings.objects.update_or_create(pk=1, defaults={"public_share_links": True})
    page = client.get(url)
    assert page.status_code == 200 and page["X-Robots-Tag"] == "noindex"
    assert '<meta name="robots" content="noindex">' in page.content.decode()


def test_sharing_off_site_wide_refuses_sharing_and_404s_every_link(as_alice, as_bob, conversation):
    url = share(as_alice, conversation)["url"]
    SiteSettings.objects.update_or_create(pk=1, defaults={"sharing_enabled": False})
    assert as_bob.get(url).status_code == 404
    response = as_alice.post(f"/c/{conversation.pk}/share/")
    assert response.status_code == 403 and response.json()["error"]


def test_when_not_everyone_may_share_only_groups_with_the_permission_may(alice, as_alice, conversation):
    SiteSettings.objects.update_or_create(pk=1, defaults={"everyone_may_share": False})
    assert as_alice.post(f"/c/{conversation.pk}/share/").status_code == 403
    sharers = Group.objects.create(name="Sharers")
    sharers.permissions.add(Permission.objects.get(codename="share_conversation"))
    alice.groups.add(sharers)
    assert as_alice.post(f"/c/{conversation.pk}/share/").status_code == 200


def test_share_update_view_and_revoke_go_into_the_audit_trail(as_alice, as_bob, conversation):
    url = share(as_alice, conversation)["url"]
    share(as_alice, conversation, include_attachments="1")
    as_alice.get(url)  # the owner's own view is not recorded
    as_bob.get(url)
    as_bob.get(url)  # a reload within the window: one entry, one view
    as_alice.post(f"/c/{conversation.pk}/share/revoke/")
    trail = list(AuditEntry.objects.order_by("id").values_list("action", "actor_name", "conversation_ref"))
    assert trail == [
        (Action.SHARE, "alice", conversation.pk),
        (Action.SHARE_UPDATE, "alice", conversation.pk),
        (Action.SHARE_VIEW, "bob", conversation.pk),
        (Action.SHARE_REVOKE, "alice", conversation.pk),
    ]
    assert ShareLink.objects.get().views == 1
    assert url not in "".join(AuditEntry.objects.values_list("detail", flat=True))  # the trail keeps no token


def test_a_view_after_the_window_is_recorded_again(as_alice, as_bob, conversation):
    url = share(as_alice, conversation)["url"]
    as_bob.get(url)
    AuditEntry.objects.filter(action=Action.SHARE_VIEW).update(created=timezone.now() - VIEW_WINDOW)
    as_bob.get(url)
    assert AuditEntry.objects.filter(action=Action.SHARE_VIEW).count() == 2


def test_one_live_link_per_conversation_and_another_conversation_gets_its_own(alice, as_alice):
    first, second = make_conversation(alice, "One"), make_conversation(alice, "Two")
    urls = {share(as_alice, c)["url"] for c in (first, second, first)}
    assert len(urls) == 2


def test_a_link_stops_working_when_its_owner_may_no_longer_share(as_alice, as_bob, conversation):
    url = share(as_alice, conversation)["url"]
    SiteSettings.objects.update_or_create(pk=1, defaults={"everyone_may_share": False})
    assert as_bob.get(url).status_code == 404


def test_the_dialog_reads_the_live_links_settings(as_alice, conversation):
    assert as_alice.get(f"/c/{conversation.pk}/share/").json() == {"url": None, "allowed": True}
    day = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    made = share(as_alice, conversation, expires=day, include_attachments="1")
    state = as_alice.get(f"/c/{conversation.pk}/share/").json()
    assert state["url"] == made["url"] and state["expires"] == day and state["include_attachments"] is True
