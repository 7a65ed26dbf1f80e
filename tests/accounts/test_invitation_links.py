"""Invitation links live on their own clock; password-reset links keep Django's."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.test import RequestFactory

from chat.accounts import invitations as accounts
from chat.accounts.invitations import invitation_tokens

pytestmark = pytest.mark.django_db

PASSWORD = "a-Long-new-passw0rd"
MADE = datetime(2030, 1, 1, 12, 0)


@pytest.fixture
def carol():
    user = User.objects.create_user("carol", email="carol@example.com")
    user.set_unusable_password()
    user.save()
    return user


@pytest.fixture
def clock(monkeypatch):
    """Sets the "now" both token generators read."""

    def at(moment: datetime) -> None:
        for generator in (invitation_tokens, default_token_generator):
            monkeypatch.setattr(generator, "_now", lambda: moment)

    return at


def invitation_made(clock, user) -> str:
    clock(MADE)
    return accounts.invitation_link(RequestFactory().get("/"), user).removeprefix("http://testserver")


def opens(client, link: str) -> bool:
    page = client.get(link, follow=True).content.decode()
    return 'name="new_password1"' in page and "This link no longer works" not in page


def test_an_invitation_works_after_six_days_not_after_eight(client, clock, carol):
    link = invitation_made(clock, carol)
    clock(MADE + timedelta(days=8))
    assert not opens(client, link)
    clock(MADE + timedelta(days=6))
    assert opens(client, link)


def test_the_invitations_lifetime_is_its_own_setting(clock, settings, carol):
    clock(MADE)
    token = invitation_tokens.make_token(carol)
    settings.TOKENOFF_INVITATION_DAYS = 10
    clock(MADE + timedelta(days=9))
    assert invitation_tokens.check_token(carol, token)
    settings.TOKENOFF_INVITATION_DAYS = 1
    clock(MADE + timedelta(days=2))
    assert not invitation_tokens.check_token(carol, token)


def test_a_password_reset_link_is_void_after_four_days(clock, carol):
    carol.set_password(PASSWORD)
    carol.save()
    clock(MADE)
    token = default_token_generator.make_token(carol)
    clock(MADE + timedelta(days=2))
    assert default_token_generator.check_token(carol, token)
    clock(MADE + timedelta(days=4))
    assert not default_token_generator.check_token(carol, token)


def test_an_invitation_is_used_once(client, clock, carol):
    link = invitation_made(clock, carol)
    clock(MADE + timedelta(days=1))
    form = client.get(link, follow=True)
    done = client.post(form.redirect_chain[-1][0], {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert done.status_code == 302
    client.logout()
    assert not opens(client, link)
    token = link.rstrip("/").rsplit("/", 1)[-1]
    assert not invitation_tokens.check_token(User.objects.get(pk=carol.pk), token)


def test_an_invitation_and_a_reset_link_are_not_interchangeable(clock, carol):
    clock(MADE)
    invitation = invitation_tokens.make_token(carol)
    reset = default_token_generator.make_token(carol)
    assert not default_token_generator.check_token(carol, invitation)
    assert not invitation_tokens.check_token(carol, reset)


@pytest.mark.parametrize("token", ["", "nodash", "zz!-abc", "1-2-3", "zzzzzzzzzzzzzzzz-abc"])
def test_a_malformed_invitation_opens_nothing(carol, token):
    assert not invitation_tokens.check_token(carol, token)


def test_a_forged_invitation_opens_nothing(clock, carol):
    clock(MADE)
    stamp, signature = invitation_tokens.make_token(carol).split("-")
    flipped = "0" if signature[-1] != "0" else "1"
    assert not invitation_tokens.check_token(carol, f"{stamp}-{signature[:-1]}{flipped}")
    clock(MADE + timedelta(days=30))
    # An old link with a fresh timestamp pasted in: the signature covers the timestamp.
    fresh_stamp = invitation_tokens.make_token(carol).split("-")[0]
    assert not invitation_tokens.check_token(carol, f"{fresh_stamp}-{signature}")


def test_the_mailed_invitation_says_how_long_it_works(settings, carol):
    settings.TOKENOFF_SEND_EMAIL = True
    settings.TOKENOFF_INVITATION_DAYS = 5
    accounts.invite(RequestFactory().get("/"), carol)
    (sent,) = mail.outbox
    assert "for 5 days" in sent.body
