"""Getting in: invitation links and open sign-up."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.test import RequestFactory
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from chat.accounts import invitations
from chat.models import SiteSettings

pytestmark = pytest.mark.django_db

PASSWORD = "a-Long-new-passw0rd"


@pytest.fixture
def carol():
    user = User.objects.create_user("carol", email="carol@example.com")
    user.set_unusable_password()
    user.save()
    return user


def link_for(user) -> str:
    return invitations.invitation_link(RequestFactory().get("/"), user).removeprefix("http://testserver")


def accept(client, link: str, password: str = PASSWORD):
    form = client.get(link, follow=True)
    return form, client.post(
        form.redirect_chain[-1][0], {"new_password1": password, "new_password2": password}
    )


def test_an_invitation_sets_the_password_and_opens_the_chat(client, carol):
    form, done = accept(client, link_for(carol))
    assert "Choose your password" in form.content.decode() and "carol" in form.content.decode()
    assert done.status_code == 302 and done["Location"] == "/"
    carol.refresh_from_db()
    assert carol.check_password(PASSWORD)
    assert client.get("/").status_code == 200  # logged in


def test_an_invitation_works_once(client, carol):
    link = link_for(carol)
    accept(client, link)
    client.logout()
    again = client.get(link, follow=True)
    assert "This link no longer works" in again.content.decode()


def test_a_weak_password_is_refused(client, carol):
    _, done = accept(client, link_for(carol), password="123")
    assert done.status_code == 200 and "too short" in done.content.decode()
    carol.refresh_from_db()
    assert not carol.has_usable_password()


def test_a_deactivated_accounts_invitation_opens_nothing(client, carol):
    link = link_for(carol)
    carol.is_active = False
    carol.save()
    assert "This link no longer works" in client.get(link, follow=True).content.decode()


def test_a_password_reset_token_is_no_invitation(client, carol):
    uid = urlsafe_base64_encode(force_bytes(carol.pk))
    token = default_token_generator.make_token(carol)
    page = client.get(f"/accounts/invitation/{uid}/{token}/", follow=True)
    assert "This link no longer works" in page.content.decode()


def test_sign_up_is_closed_by_default(client):
    assert client.get("/accounts/signup/").status_code == 404
    assert client.post("/accounts/signup/", {"username": "mallory"}).status_code == 404
    assert "Create an account" not in client.get("/accounts/login/").content.decode()


def test_open_sign_up_creates_an_account_and_logs_in(client):
    SiteSettings.objects.update_or_create(pk=1, defaults={"open_signup": True})
    assert 'href="/accounts/signup/"' in client.get("/accounts/login/").content.decode()
    data = {"username": "dave", "email": "dave@example.com", "password1": PASSWORD, "password2": PASSWORD}
    response = client.post("/accounts/signup/", data)
    assert response.status_code == 302 and response["Location"] == "/"
    assert User.objects.get(username="dave").check_password(PASSWORD)
    assert client.get("/").status_code == 200


def test_sign_up_refuses_a_taken_name_with_the_reason(client, alice):
    SiteSettings.objects.update_or_create(pk=1, defaults={"open_signup": True})
    data = {"username": "alice", "password1": PASSWORD, "password2": PASSWORD}
    response = client.post("/accounts/signup/", data)
    assert response.status_code == 400 and "already exists" in response.content.decode()
