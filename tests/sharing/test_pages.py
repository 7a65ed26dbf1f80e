"""The chat page's Share button, the /shares/ list (one's own; everyone's for admins), the admin's revoke."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from chat.models import AuditEntry, ShareLink, SiteSettings
from tests.sharing.conftest import make_conversation, signed_in

pytestmark = pytest.mark.django_db


def test_the_chat_page_offers_share_to_members_who_may(as_alice, conversation):
    page = as_alice.get(f"/c/{conversation.pk}/").content.decode()
    assert 'id="share-button"' in page and 'id="share-dialog"' in page and "chat/share.css" in page
    SiteSettings.objects.update_or_create(pk=1, defaults={"sharing_enabled": False})
    assert 'id="share-button"' not in as_alice.get(f"/c/{conversation.pk}/").content.decode()


def test_the_list_shows_ones_own_links_only(alice, bob, as_alice, as_bob, conversation):
    ShareLink.share(alice, conversation, include_attachments=False, expires=None)
    ShareLink.share(bob, make_conversation(bob, "Bob's secret"), include_attachments=False, expires=None)
    page = as_alice.get("/shares/").content.decode()
    assert "Trip plan" in page and "Bob&#x27;s secret" not in page and "Everyone" not in page
    assert "Bob&#x27;s secret" not in as_alice.get("/shares/?all=1").content.decode()


def test_a_member_cannot_revoke_another_members_link(bob, as_alice):
    link = ShareLink.share(bob, make_conversation(bob), include_attachments=False, expires=None)
    assert as_alice.post(f"/shares/{link.pk}/revoke/").status_code == 404
    link.refresh_from_db()
    assert link.revoked is None


def test_the_owner_revokes_from_the_list(alice, as_alice, as_bob, conversation):
    link = ShareLink.share(alice, conversation, include_attachments=False, expires=None)
    response = as_alice.post(f"/shares/{link.pk}/revoke/")
    assert response.status_code == 302 and response["Location"] == "/shares/"
    assert as_bob.get(link.url).status_code == 404


def test_admins_list_and_revoke_everyones_links(django_user_model, alice, conversation):
    link = ShareLink.share(alice, conversation, include_attachments=False, expires=None)
    auditor = django_user_model.objects.create_user("ada", password="ada-password-1")
    auditor.user_permissions.add(Permission.objects.get(codename="view_sharelink"))
    auditor.user_permissions.add(Permission.objects.get(codename="change_sharelink"))
    as_auditor = signed_in(auditor)
    page = as_auditor.get("/shares/?all=1").content.decode()
    assert "Trip plan" in page and "alice" in page
    assert as_auditor.post(f"/shares/{link.pk}/revoke/", {"all": "1"})["Location"] == "/shares/?all=1"
    assert AuditEntry.objects.filter(action="share_revoke", actor_name="ada").exists()


def test_seeing_everyones_links_is_not_revoking_them(django_user_model, alice, conversation):
    link = ShareLink.share(alice, conversation, include_attachments=False, expires=None)
    viewer = django_user_model.objects.create_user("vic", password="vic-password-1")
    viewer.user_permissions.add(Permission.objects.get(codename="view_sharelink"))
    as_viewer = signed_in(viewer)
    page = as_viewer.get("/shares/?all=1").content.decode()
    assert "Trip plan" in page and 'data-action="revoke-share"' not in page
    assert as_viewer.post(f"/shares/{link.pk}/revoke/", {"all": "1"}).status_code == 403
    link.refresh_from_db()
    assert link.revoked is None


def test_the_admin_revoke_action(admin_client, alice, conversation):
    link = ShareLink.share(alice, conversation, include_attachments=False, expires=None)
    response = admin_client.post(
        "/admin/chat/sharelink/", {"action": "revoke", "_selected_action": [link.pk]}, follow=True
    )
    assert response.status_code == 200
    link.refresh_from_db()
    assert link.revoked is not None


def test_no_share_button_for_members_who_may_not_share(as_alice, conversation):
    SiteSettings.objects.update_or_create(pk=1, defaults={"everyone_may_share": False})
    assert 'id="share-button"' not in as_alice.get(f"/c/{conversation.pk}/").content.decode()
