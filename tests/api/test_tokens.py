"""Personal API tokens: stored as a digest, shown once, created only with the permission, revoked."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.utils import timezone

from chat.models import ApiToken

pytestmark = pytest.mark.django_db
# Named: the first backend with get_user is not necessarily the one that signs members in.
BACKEND = "django.contrib.auth.backends.ModelBackend"


def allow_tokens(user) -> None:
    user.user_permissions.add(Permission.objects.get(codename="manage_api_tokens"))


@pytest.fixture
def as_alice(client, alice):
    client.force_login(alice, backend=BACKEND)
    return client


def test_a_token_is_stored_as_its_sha256_digest_with_a_prefix_to_tell_it_by(alice):
    row, token = ApiToken.issue(alice, "  backup script  ")
    assert token.startswith("tok_") and len(token) >= 4 + 43
    assert row.digest == hashlib.sha256(token.encode()).hexdigest() and token not in row.digest
    assert row.prefix == token[4:12] and row.shown_prefix == f"tok_{token[4:12]}…"
    assert row.name == "backup script"
    assert ApiToken.objects.authenticate(token) == row
    assert (
        ApiToken.objects.authenticate(token + "x") is None
        and ApiToken.objects.authenticate(token[4:]) is None
    )


def test_revoked_expired_and_inactive_owners_tokens_do_not_authenticate(alice, bob):
    _, revoked = ApiToken.issue(alice, "a")
    ApiToken.objects.get(name="a").revoke()
    _, expired = ApiToken.issue(alice, "b", timezone.now() - dt.timedelta(seconds=1))
    _, bobs = ApiToken.issue(bob, "c")
    bob.is_active = False
    bob.save()
    assert [ApiToken.objects.authenticate(t) for t in (revoked, expired, bobs)] == [None, None, None]


def test_last_used_is_written_at_most_once_a_minute(alice):
    row, _ = ApiToken.issue(alice, "a")
    row.mark_used()
    first = ApiToken.objects.get(pk=row.pk).last_used
    row.mark_used()
    assert ApiToken.objects.get(pk=row.pk).last_used == first
    row.last_used = timezone.now() - dt.timedelta(minutes=2)
    row.mark_used()
    assert ApiToken.objects.get(pk=row.pk).last_used > first


def test_a_member_without_the_permission_cannot_create_a_token(as_alice, alice):
    assert "Creating API tokens is not allowed" in as_alice.get("/settings/").content.decode()
    assert as_alice.post("/settings/tokens/", {"name": "x"}).status_code == 403
    assert not ApiToken.objects.exists()


def test_a_member_with_the_permission_sees_the_new_token_once(as_alice, alice):
    allow_tokens(alice)
    response = as_alice.post("/settings/tokens/", {"name": "my editor", "expires": ""})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    row = ApiToken.objects.get()
    page = response.content.decode()
    token = page.split("data-api-token spellcheck")[0].rsplit('value="', 1)[1].split('"')[0]
    assert ApiToken.objects.authenticate(token) == row and row.expires is None
    again = as_alice.get("/settings/").content.decode()
    assert token not in again and row.shown_prefix in again and "my editor" in again


def test_an_expiry_must_be_in_the_future(as_alice, alice):
    allow_tokens(alice)
    yesterday = (timezone.now() - dt.timedelta(days=1)).date().isoformat()
    response = as_alice.post("/settings/tokens/", {"name": "x", "expires": yesterday})
    assert response.status_code == 400 and not ApiToken.objects.exists()
    tomorrow = (timezone.now() + dt.timedelta(days=2)).date().isoformat()
    assert as_alice.post("/settings/tokens/", {"name": "x", "expires": tomorrow}).status_code == 200
    assert ApiToken.objects.get().expires.date().isoformat() == tomorrow


def test_a_superuser_may_always_create_tokens(client, admin_user):
    client.force_login(admin_user, backend=BACKEND)
    assert client.post("/settings/tokens/", {"name": "root"}).status_code == 200


def test_a_member_revokes_their_own_token_and_not_anothers(as_alice, alice, bob):
    mine, _ = ApiToken.issue(alice, "mine")
    bobs, _ = ApiToken.issue(bob, "bob's")
    assert as_alice.post(f"/settings/tokens/{bobs.pk}/revoke/").status_code == 404
    assert as_alice.post(f"/settings/tokens/{mine.pk}/revoke/").status_code == 302
    mine.refresh_from_db()
    bobs.refresh_from_db()
    assert mine.state == "revoked" and bobs.state == "active"


def test_the_command_prints_a_working_token_once(alice, capsys):
    call_command("create_api_token", "--user", "alice", "--name", "nightly", "--days", "30")
    token = capsys.readouterr().out.strip()
    row = ApiToken.objects.authenticate(token)
    assert row.name == "nightly" and row.owner == alice
    assert dt.timedelta(days=29) < row.expires - timezone.now() <= dt.timedelta(days=30)


def test_admins_list_tokens_without_digests_and_revoke_with_the_change_permission(
    client, alice, django_user_model
):
    row, _ = ApiToken.issue(alice, "ci job")
    viewer = django_user_model.objects.create_user("viewer", password="pw-viewer-1", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_apitoken"))
    client.force_login(viewer, backend=BACKEND)
    listing = client.get("/admin/chat/apitoken/")
    assert listing.status_code == 200 and "ci job" in listing.content.decode()
    assert row.digest not in listing.content.decode()
    assert row.digest not in client.get(f"/admin/chat/apitoken/{row.pk}/change/").content.decode()
    action = {"action": "revoke", "_selected_action": [row.pk]}
    client.post("/admin/chat/apitoken/", action)
    row.refresh_from_db()
    assert row.state == "active"  # the action is not offered without the change permission
    viewer.user_permissions.add(Permission.objects.get(codename="change_apitoken"))
    client.post("/admin/chat/apitoken/", action)
    row.refresh_from_db()
    assert row.state == "revoked"


def test_creating_and_revoking_tokens_need_the_csrf_token_the_api_is_exempt_from(alice):
    from django.test import Client

    allow_tokens(alice)
    row, _ = ApiToken.issue(alice, "kept")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice, backend=BACKEND)
    assert browser.post("/settings/tokens/", {"name": "forged"}).status_code == 403
    assert browser.post(f"/settings/tokens/{row.pk}/revoke/").status_code == 403
    assert list(ApiToken.objects.values_list("name", "revoked")) == [("kept", None)]
