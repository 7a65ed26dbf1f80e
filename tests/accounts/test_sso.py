"""Single sign-on without a provider: off by default, SSO-only mode's refusals, groups from a claim."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User

from chat.accounts import invitations, sso
from chat.models import AuditEntry, SiteSettings

pytestmark = pytest.mark.django_db

NOWHERE = "http://127.0.0.1:9/o"  # nothing listens there: the provider cannot be reached


@pytest.fixture
def sso_on(settings):
    settings.OIDC_ISSUER = NOWHERE
    settings.OIDC_RP_CLIENT_ID = "tokenoff-chat"
    settings.OIDC_RP_CLIENT_SECRET = "a-client-secret"
    settings.OIDC_PROVIDER_NAME = "Example ID"
    return settings


@pytest.fixture
def sso_only(sso_on):
    sso_on.OIDC_SSO_ONLY = True
    return sso_on


@pytest.fixture
def root(django_user_model):
    return django_user_model.objects.create_superuser("root", password="root-password-1")


def log_in(client, username: str, password: str):
    return client.post("/accounts/login/", {"username": username, "password": password})


# Off without an issuer.


def test_without_an_issuer_there_is_no_single_sign_on(client):
    assert client.get("/oidc/authenticate/").status_code == 404
    assert client.get("/oidc/callback/?code=x&state=y").status_code == 404
    page = client.get("/accounts/login/").content.decode()
    assert "Sign in with" not in page and 'name="password"' in page


def test_without_an_issuer_the_backend_signs_no_one_in(rf):
    request = rf.get("/oidc/callback/", {"code": "x", "state": "y"})
    assert sso.SSOBackend().authenticate(request, nonce="n", code_verifier="v") is None


# On, with the provider out of reach: password log-ins are untouched, the button explains.


def test_the_login_page_offers_the_provider_and_passwords(client, sso_on):
    page = client.get("/accounts/login/?next=/settings/").content.decode()
    assert 'href="/oidc/authenticate/?next=/settings/"' in page
    assert "Sign in with Example ID" in page
    assert 'name="password"' in page and "Administrator sign-in" not in page


def test_a_password_log_in_never_asks_the_provider(client, sso_on, alice):
    # The provider is unreachable: fetching its discovery document on a password log-in would fail.
    response = log_in(client, "alice", "alice-password-1")
    assert response.status_code == 302 and response["Location"] == "/"


def test_an_unreachable_provider_is_explained_not_a_server_error(client, sso_on):
    response = client.get("/oidc/authenticate/", follow=True)
    assert response.redirect_chain == [("/accounts/login/", 302)]
    assert "The sign-in service cannot be reached just now." in response.content.decode()


def test_a_callback_with_an_unknown_state_is_a_bad_request(client, sso_on):
    session = client.session
    session["oidc_states"] = {}
    session.save()
    assert client.get("/oidc/callback/", {"code": "x", "state": "forged"}).status_code == 400


# SSO-only.


def test_sso_only_shows_the_button_and_folds_the_administrators_form(client, sso_only):
    page = client.get("/accounts/login/").content.decode()
    assert "Sign in with Example ID" in page
    assert '<details class="login-admin">' in page and "Administrator sign-in" in page


def test_sso_only_refuses_a_members_right_password(client, sso_only, alice):
    response = log_in(client, "alice", "alice-password-1")
    assert response.status_code == 200
    assert "Password log-in is for administrators only" in response.content.decode()
    assert client.get("/").status_code == 302  # not signed in


def test_sso_only_says_the_same_to_a_wrong_password(client, sso_only, alice):
    right = log_in(client, "alice", "alice-password-1").content.decode()
    wrong = log_in(client, "alice", "not-her-password").content.decode()
    assert "Password log-in is for administrators only" in wrong
    assert right.count("administrators only") == wrong.count("administrators only")


def test_sso_only_lets_a_superuser_in_with_a_password(client, sso_only, root):
    response = log_in(client, "root", "root-password-1")
    assert response.status_code == 302 and response["Location"] == "/"


def test_sso_only_refuses_staff_at_the_admins_own_log_in(client, sso_only, django_user_model):
    django_user_model.objects.create_user("sam", password="sam-password-1", is_staff=True)
    response = client.post("/admin/login/", {"username": "sam", "password": "sam-password-1"})
    assert response.status_code == 200
    assert client.get("/admin/").status_code == 302


def test_sso_only_closes_sign_up_and_members_invitations(client, sso_only, alice, root):
    site = SiteSettings.current()
    site.open_signup = True
    site.save()
    assert client.get("/accounts/signup/").status_code == 404
    view = invitations.InvitationView()
    assert view.get_user(invitations.urlsafe_base64_encode(b"%d" % alice.pk)) is None
    assert view.get_user(invitations.urlsafe_base64_encode(b"%d" % root.pk)) == root
    assert "Create an account" not in client.get("/accounts/login/").content.decode()


# Groups from the claim.


@pytest.fixture
def groups(settings):
    settings.OIDC_GROUPS_CLAIM = "groups"
    settings.OIDC_GROUPS_MAP = {}
    for name in ("Reviewers", "GPT users", "Local only"):
        Group.objects.get_or_create(name=name)


def names(user) -> list[str]:
    return sorted(user.groups.values_list("name", flat=True))


def test_unmapped_claim_names_match_local_groups_by_name(alice, groups):
    alice.groups.add(Group.objects.get(name="Local only"))
    changes = sso.sync_groups(alice, {"groups": ["Reviewers", "Domain Users"]})
    assert names(alice) == ["Reviewers"]  # every local group follows the claim; unknown names ignored
    assert changes == ["added alice to Reviewers", "removed alice from Local only"]
    assert not Group.objects.filter(name="Domain Users").exists()
    entries = AuditEntry.objects.filter(action=AuditEntry.Action.GROUPS).order_by("id")
    assert [(e.actor, e.actor_name, e.detail) for e in entries] == [
        (alice, "alice", "added alice to Reviewers"),
        (alice, "alice", "removed alice from Local only"),
    ]


def test_a_map_manages_only_its_groups_and_creates_them(alice, groups, settings):
    settings.OIDC_GROUPS_MAP = {"idp-new": "Newcomers", "idp-reviewers": "Reviewers"}
    alice.groups.add(Group.objects.get(name="Local only"))
    sso.sync_groups(alice, {"groups": ["idp-new"]})
    assert names(alice) == ["Local only", "Newcomers"]


@pytest.mark.parametrize("claims", [{}, {"groups": None}, {"groups": {"not": "a list"}}, {"groups": [1, 2]}])
def test_a_missing_or_unreadable_claim_leaves_groups_alone(alice, groups, claims):
    alice.groups.add(Group.objects.get(name="Reviewers"))
    assert sso.sync_groups(alice, claims) == []
    assert names(alice) == ["Reviewers"]


def test_without_a_groups_claim_setting_nothing_is_synced(alice, groups, settings):
    settings.OIDC_GROUPS_CLAIM = ""
    alice.groups.add(Group.objects.get(name="Reviewers"))
    assert sso.sync_groups(alice, {"groups": []}) == []
    assert names(alice) == ["Reviewers"]


def test_a_lone_group_may_come_as_a_string(alice, groups):
    sso.sync_groups(alice, {"groups": "GPT users"})
    assert names(alice) == ["GPT users"]


# Who the claims name.


@pytest.mark.parametrize("name", ["", "has space", "x" * 151, None, 42])
def test_a_username_claim_that_cannot_name_a_member_is_refused(name):
    assert not sso.SSOBackend().verify_claims({"preferred_username": name, "email": "a@example.com"})


def test_the_member_is_found_by_the_username_claim_not_the_email(alice, settings):
    User.objects.create_user("mallory", email="alice@example.com")
    backend = sso.SSOBackend()
    found = backend.filter_users_by_claims({"preferred_username": "Alice", "email": "alice@example.com"})
    assert list(found) == [alice]  # directories compare names without regard to case
    settings.OIDC_USERNAME_CLAIM = "upn"
    found = backend.filter_users_by_claims({"upn": "mallory", "preferred_username": "alice"})
    assert [user.username for user in found] == ["mallory"]


def test_a_new_member_has_no_password_and_no_staff_rights():
    user = sso.SSOBackend().create_user(
        {"preferred_username": "nina", "email": "nina@example.com", "given_name": "Nina", "is_staff": True}
    )
    assert not user.has_usable_password() and not user.is_staff and not user.is_superuser
    assert (user.email, user.first_name) == ("nina@example.com", "Nina")


def test_an_unverified_address_is_not_copied(alice):
    claims = {"preferred_username": "alice", "email": "x@evil.example", "email_verified": False}
    sso.SSOBackend().update_user(alice, claims)
    alice.refresh_from_db()
    assert alice.email == ""


def test_failed_callbacks_never_lock_single_sign_on_for_an_address(client, sso_on):
    sso_on.OIDC_OP_TOKEN_ENDPOINT = (
        f"{NOWHERE}/token/"  # the code exchange fails, as when the provider is down
    )
    for attempt in range(7):
        session = client.session
        session["oidc_states"] = {f"state-{attempt}": {"nonce": "n", "code_verifier": "v" * 64}}
        session.save()
        response = client.get("/oidc/callback/", {"code": "x", "state": f"state-{attempt}"})
        assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert "Single sign-on did not sign you in." in client.get("/accounts/login/").content.decode()


def test_deactivating_a_member_ends_their_single_sign_on_session(client, sso_on, alice):
    client.force_login(alice, backend="chat.accounts.sso.SSOBackend")
    assert client.get("/").status_code == 200
    alice.is_active = False
    alice.save()
    assert client.get("/").status_code == 302


def test_a_sign_in_the_provider_refused_comes_back_to_the_login_page(client, sso_on):
    response = client.get("/oidc/callback/", {"error": "access_denied", "state": "s"}, follow=True)
    assert response.redirect_chain == [("/accounts/login/", 302)]
    assert "Single sign-on did not sign you in." in response.content.decode()


def sso_backend_for(rf, claims: dict) -> sso.SSOBackend:
    """The backend mid-callback, with the provider's claims as userinfo would give them."""
    backend = sso.SSOBackend()
    backend.request = rf.get("/oidc/callback/")

    def userinfo(*_args):
        backend.claims = claims
        return claims

    backend.get_userinfo = userinfo
    return backend


def test_a_username_claim_naming_a_local_superuser_does_not_sign_in_as_them(rf, sso_on, root):
    claims = {
        "preferred_username": "ROOT",
        "sub": "s1",
        "email": "attacker@evil.example",
        "given_name": "Eve",
    }
    assert sso_backend_for(rf, claims).get_or_create_user("access", "id", {}) is None
    root.refresh_from_db()
    assert (root.email, root.first_name, root.is_superuser) == ("", "", True)  # nothing taken from them


def test_a_superuser_without_a_password_may_sign_in_through_the_provider(rf, sso_on, root):
    root.set_unusable_password()
    root.save()
    claims = {"preferred_username": "root", "sub": "s1"}
    assert sso_backend_for(rf, claims).get_or_create_user("access", "id", {}) == root


def test_a_deactivated_members_details_are_not_changed_by_the_provider(rf, sso_on, alice):
    alice.is_active = False
    alice.save()
    claims = {"preferred_username": "alice", "sub": "s1", "email": "new@example.com", "given_name": "Al"}
    backend = sso_backend_for(rf, claims)
    assert backend.get_or_create_user("access", "id", {}) is None
    alice.refresh_from_db()
    assert (alice.email, alice.first_name) == ("", "")
    assert backend.request.sso_refusal == "Your account on this site is deactivated."


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"]
)
def test_a_sign_in_never_keeps_a_next_that_leaves_the_site(client, sso_on, target):
    sso_on.OIDC_OP_AUTHORIZATION_ENDPOINT = "http://idp.example/authorize"
    response = client.get("/oidc/authenticate/", {"next": target})
    assert response.status_code == 302 and response["Location"].startswith("http://idp.example/authorize?")
    assert "oidc_login_next" not in client.session or client.session["oidc_login_next"] is None
    client.get("/oidc/authenticate/", {"next": "/settings/"})
    assert client.session["oidc_login_next"] == "/settings/"
