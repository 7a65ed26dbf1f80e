"""The admin: keys, the catalogue, access, users and the site settings, as an admin uses them."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth.models import Group, User
from django.core import mail, signals
from django.views.debug import ExceptionReporter

from chat.models import ApiKey, ChatModel, ModelLimit, SiteSettings
from tests.conftest import CANARY_KEY

pytestmark = pytest.mark.django_db

ADMIN_PAGES = [
    "/admin/",
    "/admin/chat/apikey/",
    "/admin/chat/apikey/add/",
    "/admin/chat/chatmodel/",
    "/admin/auth/user/",
    "/admin/auth/group/",
]


def follow_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def team_key_of(admin_client, secret: str, button: str = "_save"):
    return admin_client.post(
        "/admin/chat/apikey/add/", {"kind": "team", "user": "", "secret": secret, button: "1"}, follow=True
    )


# Keys -------------------------------------------------------------------------------------------


def test_the_team_key_is_set_through_a_write_only_field_and_never_shown(admin_client, alice, fake):
    response = team_key_of(admin_client, CANARY_KEY)
    assert response.status_code == 200
    key = ApiKey.objects.get(is_team=True)
    assert key.reveal() == CANARY_KEY and key.masked == "sk-…" + CANARY_KEY[-4:]
    ApiKey.store("sk-alice-own-key-4321", user=alice)
    pages = [
        *ADMIN_PAGES,
        f"/admin/chat/apikey/{key.pk}/change/",
        f"/admin/chat/apikey/{key.pk}/history/",
        f"/admin/chat/apikey/{key.pk}/delete/",
        f"/admin/auth/user/{alice.pk}/change/",
    ]
    for url in pages:
        body = admin_client.get(url).content.decode()
        assert CANARY_KEY not in body and "sk-alice-own-key" not in body, url
    change = admin_client.get(f"/admin/chat/apikey/{key.pk}/change/").content.decode()
    assert key.masked in change and 'type="password"' in change and 'value="sk-' not in change


def test_a_form_refused_for_a_mistake_does_not_show_the_key_back(admin_client):
    response = admin_client.post(
        "/admin/chat/apikey/add/", {"kind": "user", "user": "", "secret": CANARY_KEY}
    )
    body = response.content.decode()
    assert response.status_code == 200 and "Choose the member" in body
    assert CANARY_KEY not in body and not ApiKey.objects.exists()


def test_a_key_that_cannot_be_one_is_refused(admin_client):
    response = admin_client.post("/admin/chat/apikey/add/", {"kind": "team", "secret": "not a key"})
    assert "does not look like an API key" in response.content.decode() and not ApiKey.objects.exists()


def test_save_and_test_asks_the_upstream_and_keeps_the_answer(admin_client, fake):
    response = team_key_of(admin_client, CANARY_KEY, button="_saveandtest")
    key = ApiKey.objects.get(is_team=True)
    assert key.check_result == "ok" and key.checked is not None and "24 models" in key.check_detail
    assert any("Team key: sk-…" in m and ": ok." in m for m in follow_messages(response))
    assert fake.requests[-1].path == "/v1/models"
    assert fake.requests[-1].authorization == f"Bearer {CANARY_KEY}"
    assert CANARY_KEY not in response.content.decode()


def test_the_test_button_says_when_the_key_is_rejected(admin_client, fake):
    key = ApiKey.store("sk-bad-key-00000000")
    response = admin_client.post(f"/admin/chat/apikey/{key.pk}/test/", follow=True)
    key.refresh_from_db()
    assert key.check_result == "rejected"
    assert any("rejected" in m and "refused the API key" in m for m in follow_messages(response))
    listing = admin_client.get("/admin/chat/apikey/").content.decode()
    assert "key-badge-rejected" in listing


def test_the_test_button_needs_a_post(admin_client, team_key, fake):
    assert admin_client.get(f"/admin/chat/apikey/{team_key.pk}/test/").status_code == 405
    assert fake.requests == []


def test_the_test_action_says_when_the_upstream_is_unreachable(admin_client, team_key, settings):
    settings.TOKENOFF_BASE_URL = "http://127.0.0.1:9/v1"
    response = admin_client.post(
        "/admin/chat/apikey/",
        {"action": "test_keys", "_selected_action": [team_key.pk]},
        follow=True,
    )
    team_key.refresh_from_db()
    assert team_key.check_result == "unreachable"
    assert any("unreachable" in m for m in follow_messages(response))


def test_a_stored_key_is_kept_when_the_field_is_left_empty_and_replaced_when_not(admin_client, team_key):
    url = f"/admin/chat/apikey/{team_key.pk}/change/"
    before = team_key.encrypted
    assert admin_client.post(url, {"secret": ""}).status_code == 302
    team_key.refresh_from_db()
    assert team_key.encrypted == before
    admin_client.post(url, {"secret": "sk-replaced-team-key-9876"})
    team_key.refresh_from_db()
    assert team_key.reveal() == "sk-replaced-team-key-9876" and team_key.last4 == "9876"


def test_there_is_one_team_key_and_one_key_per_member(admin_client, team_key, alice):
    response = team_key_of(admin_client, "sk-another-team-key-1111")
    assert "There is a team key already" in response.content.decode()
    assert ApiKey.objects.filter(is_team=True).count() == 1
    added = admin_client.post(
        "/admin/chat/apikey/add/", {"kind": "user", "user": alice.pk, "secret": "sk-alice-own-key-4321"}
    )
    assert added.status_code == 302 and ApiKey.objects.for_user(alice).reveal() == "sk-alice-own-key-4321"
    form = admin_client.get("/admin/chat/apikey/add/").content.decode()
    assert f'<option value="{alice.pk}">' not in form  # she has one now


def test_a_key_is_deleted(admin_client, team_key):
    admin_client.post(f"/admin/chat/apikey/{team_key.pk}/delete/", {"post": "yes"})
    assert not ApiKey.objects.exists()


def test_a_key_in_an_error_report_is_hidden(admin_client, monkeypatch):
    """The report Django mails to admins on a crash lists the POST data and the local variables."""
    from chat.lib import crypto

    def broken(*args):
        raise RuntimeError("encryption broke")

    monkeypatch.setattr(crypto, "_configured", broken)
    reports: list[str] = []

    def report(sender, request, **kwargs):
        import sys

        reporter = ExceptionReporter(request, *sys.exc_info())
        reports.extend([reporter.get_traceback_text(), reporter.get_traceback_html()])

    signals.got_request_exception.connect(report)
    admin_client.raise_request_exception = False
    try:
        response = team_key_of(admin_client, CANARY_KEY)
    finally:
        signals.got_request_exception.disconnect(report)
    assert response.status_code == 500 and len(reports) == 2
    assert "encryption broke" in reports[0]
    assert all(CANARY_KEY not in report for report in reports)


# Encryption keys ------------------------------------------------------------------------------


def test_rotation_from_the_admin_lets_the_old_encryption_key_go(admin_client, settings, team_key, alice):
    ApiKey.store("sk-alice-own-key-4321", user=alice)
    old, new = settings.TOKENOFF_ENCRYPTION_KEYS[0], Fernet.generate_key().decode()
    settings.TOKENOFF_ENCRYPTION_KEYS = [new, old]
    listing = admin_client.get("/admin/chat/apikey/").content.decode()
    assert "2 under an older one" in listing and "older key: re-encrypt" in listing

    response = admin_client.post("/admin/chat/apikey/rotate/", follow=True)
    assert any("Re-encrypted 2 key(s)" in m for m in follow_messages(response))
    settings.TOKENOFF_ENCRYPTION_KEYS = [new]
    assert ApiKey.objects.for_user(alice).reveal() == "sk-alice-own-key-4321"
    assert ApiKey.objects.get(is_team=True).reveal() == CANARY_KEY
    assert (
        "every stored key is under the current encryption key" in admin_client.get("/admin/").content.decode()
    )


def test_rotation_from_the_admin_changes_nothing_when_a_key_cannot_be_opened(
    admin_client, settings, team_key
):
    before = team_key.encrypted
    settings.TOKENOFF_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    response = admin_client.post("/admin/chat/apikey/rotate/", follow=True)
    assert any(
        "Nothing was re-encrypted" in m and f"#{team_key.pk} (Team key)" in m
        for m in follow_messages(response)
    )
    team_key.refresh_from_db()
    assert team_key.encrypted == before
    assert "that no configured key opens" in response.content.decode()


# The catalogue --------------------------------------------------------------------------------


def select(admin_client, action: str, *model_names: str):
    ids = ChatModel.objects.filter(name__in=model_names).values_list("pk", flat=True)
    return admin_client.post(
        "/admin/chat/chatmodel/", {"action": action, "_selected_action": list(ids)}, follow=True
    )


def test_models_are_switched_off_and_on(admin_client, alice, client):
    select(admin_client, "disable_models", "gpt-4o", "o3-pro")
    assert not ChatModel.objects.filter(name__in=["gpt-4o", "o3-pro"], enabled=True).exists()
    client.force_login(alice)
    picker = client.get("/").content.decode()
    assert 'value="gpt-4o"' not in picker and 'value="gpt-4o-mini"' in picker
    select(admin_client, "enable_models", "gpt-4o")
    assert 'value="gpt-4o"' in client.get("/").content.decode()


def test_the_default_model_is_chosen_and_stays_enabled(admin_client):
    response = select(admin_client, "disable_models", "gpt-4.1")
    assert any("default model stays enabled" in m for m in follow_messages(response))
    assert ChatModel.objects.get(name="gpt-4.1").enabled
    select(admin_client, "make_default", "o4-mini")
    assert ChatModel.default().name == "o4-mini"
    assert ChatModel.objects.filter(is_default=True).count() == 1


def test_the_list_edits_labels_order_and_switches_in_place(admin_client):
    models = list(ChatModel.objects.all())
    data = {"form-TOTAL_FORMS": len(models), "form-INITIAL_FORMS": len(models), "_save": "Save"}
    for i, model in enumerate(models):
        data |= {f"form-{i}-id": model.pk, f"form-{i}-label": model.label, f"form-{i}-sort_order": i}
        if model.enabled:
            data[f"form-{i}-enabled"] = "on"
        if model.name == "o3":
            data |= {f"form-{i}-label": "o3 (deep thinking)", f"form-{i}-sort_order": 0}
            data.pop(f"form-{i}-enabled")
    assert admin_client.post("/admin/chat/chatmodel/", data).status_code == 302
    o3 = ChatModel.objects.get(name="o3")
    assert (o3.label, o3.sort_order, o3.enabled) == ("o3 (deep thinking)", 0, False)


def test_a_reasoning_model_is_refused_a_temperature(admin_client):
    o3 = ChatModel.objects.get(name="o3")
    data = {
        "name": "o3",
        "label": "o3",
        "enabled": "on",
        "sort_order": o3.sort_order,
        "is_reasoning": "on",
        "temperature": "0.7",
        # What the change form posts for o3's capabilities (a real form always sends the field).
        "reasoning_efforts": "low,medium,high",
        "reasoning_effort": "high",
    }
    response = admin_client.post(f"/admin/chat/chatmodel/{o3.pk}/change/", data)
    assert response.status_code == 200 and "Reasoning models take no temperature" in response.content.decode()
    data.pop("temperature")
    assert admin_client.post(f"/admin/chat/chatmodel/{o3.pk}/change/", data).status_code == 302
    o3.refresh_from_db()
    assert o3.request_parameters() == {"reasoning_effort": "high"}


def test_the_sync_button_adds_what_the_upstream_lists_and_flags_what_it_dropped(admin_client, fake, team_key):
    fake.models.append("o5-preview")
    fake.models.remove("o3-pro")
    try:
        response = admin_client.post("/admin/chat/chatmodel/sync/", follow=True)
    finally:
        fake.models.remove("o5-preview")
        fake.models.append("o3-pro")
    shown = follow_messages(response)
    assert any("disabled for review: o5-preview" in m for m in shown)
    assert any("No longer listed upstream" in m and "o3-pro" in m for m in shown)
    added = ChatModel.objects.get(name="o5-preview")
    assert not added.enabled and added.is_reasoning
    assert ChatModel.objects.get(name="o3-pro").missing_upstream
    assert "no longer listed" in admin_client.get("/admin/chat/chatmodel/").content.decode()
    assert fake.requests[-1].authorization == f"Bearer {CANARY_KEY}"


def test_the_sync_button_says_when_the_upstream_refuses(admin_client, fake):
    ApiKey.store("sk-bad-key-00000000")
    response = admin_client.post("/admin/chat/chatmodel/sync/", follow=True)
    assert any("Could not list" in m and "refused the API key" in m for m in follow_messages(response))


# Access ---------------------------------------------------------------------------------------


def test_a_group_is_limited_to_o3_from_its_page(admin_client, alice, bob):
    o3 = ChatModel.objects.get(name="o3")
    data = {
        "name": "Interns",
        "model_limit-TOTAL_FORMS": "1",
        "model_limit-INITIAL_FORMS": "0",
        "model_limit-0-allowed_models": [o3.pk],
    }
    assert admin_client.post("/admin/auth/group/add/", data).status_code == 302
    interns = Group.objects.get(name="Interns")
    assert list(ModelLimit.objects.get(group=interns).allowed_models.all()) == [o3]
    interns.user_set.add(alice)
    assert list(ChatModel.objects.usable_by(alice)) == [o3]
    assert ChatModel.objects.usable_by(bob).count() == 24
    page = admin_client.get(f"/admin/auth/user/{alice.pk}/change/").content.decode()
    assert "Models they may use" in page and "<code>o3</code>" in page and "<code>gpt-4.1</code>" not in page
    assert "o3" in admin_client.get("/admin/auth/group/").content.decode()


def test_models_are_kept_for_a_group_from_its_page(admin_client, alice, bob):
    o3 = ChatModel.objects.get(name="o3")
    data = {"name": "Research", "reserved_models": [o3.pk], "model_limit-TOTAL_FORMS": "0"}
    data["model_limit-INITIAL_FORMS"] = "0"
    assert admin_client.post("/admin/auth/group/add/", data).status_code == 302
    research = Group.objects.get(name="Research")
    assert list(o3.groups.all()) == [research]
    research.user_set.add(alice)
    assert ChatModel.objects.usable_by(alice).filter(name="o3").exists()
    assert not ChatModel.objects.usable_by(bob).filter(name="o3").exists()
    page = admin_client.get(f"/admin/auth/group/{research.pk}/change/").content.decode()
    assert f'<option value="{o3.pk}" selected' in page


# Users ----------------------------------------------------------------------------------------


def add_user(admin_client, **fields):
    data = {"username": "carol", "email": "", "usable_password": "false", **fields}
    return admin_client.post("/admin/auth/user/add/", data, follow=True)


def test_an_admin_adds_a_user_and_is_shown_the_invitation_link(admin_client):
    response = add_user(admin_client, email="carol@example.com")
    carol = User.objects.get(username="carol")
    assert not carol.has_usable_password() and carol.is_active
    (shown,) = [m for m in follow_messages(response) if "Invitation link for carol" in m]
    assert "/accounts/invitation/" in shown and "Mailed" not in shown
    assert mail.outbox == []  # no mail server configured: the admin passes the link on
    assert "invited" in admin_client.get("/admin/auth/user/").content.decode()


def test_the_invitation_is_mailed_when_the_site_can_send_mail(admin_client, settings):
    settings.TOKENOFF_SEND_EMAIL = True
    response = add_user(admin_client, email="carol@example.com")
    (sent,) = mail.outbox
    assert sent.to == ["carol@example.com"] and "/accounts/invitation/" in sent.body
    assert any("Mailed to carol@example.com" in m for m in follow_messages(response))


def test_an_admin_can_still_set_a_password_instead(admin_client):
    add_user(admin_client, usable_password="true", password1="c4rol-Passw0rd!", password2="c4rol-Passw0rd!")
    assert User.objects.get(username="carol").check_password("c4rol-Passw0rd!")


def test_the_invitation_action_makes_a_new_link(admin_client, alice):
    response = admin_client.post(
        "/admin/auth/user/", {"action": "send_invitations", "_selected_action": [alice.pk]}, follow=True
    )
    assert any("Invitation link for alice" in m for m in follow_messages(response))


def test_the_deactivate_action_ends_access_but_not_the_admins_own(admin_client, admin_user, alice):
    admin_client.post(
        "/admin/auth/user/",
        {"action": "deactivate", "_selected_action": [alice.pk, admin_user.pk]},
    )
    alice.refresh_from_db()
    admin_user.refresh_from_db()
    assert not alice.is_active and admin_user.is_active
    assert "deactivated" in admin_client.get("/admin/auth/user/").content.decode()


# The site -------------------------------------------------------------------------------------


def test_the_site_settings_are_one_page(admin_client):
    response = admin_client.get("/admin/chat/sitesettings/")
    assert response.status_code == 302 and response["Location"].endswith("/admin/chat/sitesettings/1/change/")
    admin_client.post("/admin/chat/sitesettings/1/change/", {"open_signup": "on"})
    current = SiteSettings.current()
    assert current.open_signup and not current.self_service_keys
    assert admin_client.get("/admin/chat/sitesettings/add/").status_code == 403


def test_the_admin_looks_like_the_product_and_leads_back_to_the_chat(admin_client, team_key):
    page = admin_client.get("/admin/").content.decode()
    assert "<title>Run the site | TokenOff Chat admin</title>" in page
    assert "chat/admin.css" in page and "chat/favicon.svg" in page
    assert '<a class="back-to-chat" href="/">Back to the chat</a>' in page
    assert "The site at a glance" in page and team_key.masked in page and "not tested yet" in page


def test_the_front_page_says_when_there_is_no_team_key(admin_client):
    page = admin_client.get("/admin/").content.decode()
    assert "Set the team key" in page and "/admin/chat/apikey/add/?kind=team" in page


def test_members_cannot_open_the_admin(client, alice):
    client.force_login(alice)
    assert client.get("/admin/chat/apikey/").status_code == 302
