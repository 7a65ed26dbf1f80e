"""Single sign-on against a real OpenID Connect provider (tests/idp/) in its own process, over real HTTP."""

from __future__ import annotations

import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import SuspiciousOperation

from chat.accounts import sso
from tests.e2e.live import LiveSite
from tests.idp.flow import provider_tokens, sign_in, signed_in_as
from tests.idp.server import CLIENT_ID, CLIENT_SECRET, IdentityProvider, sso_site

OTHER_ID = "another-application"
OTHER_SECRET = "another-application-secret-0123456789"
OTHER_REDIRECT = "http://127.0.0.1:9/elsewhere/callback"
PASSWORD = "directory-password-1"
GROUPS_MAP = "idp-reviewers=Reviewers,idp-gpt=GPT users"


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    provider = IdentityProvider(tmp_path_factory.mktemp("idp"))
    yield provider
    provider.stop()


@pytest.fixture(scope="module")
def site(idp, tmp_path_factory):
    live = sso_site(idp, tmp_path_factory.mktemp("sso-site"), OIDC_GROUPS_MAP=GROUPS_MAP)
    # A group the directory does not manage, which an admin gave by hand: sign-ins leave it alone.
    shell(live, "Group.objects.create(name='Local only')")
    idp.app(OTHER_ID, OTHER_SECRET, OTHER_REDIRECT)
    yield live
    live.stop()


def shell(site: LiveSite, code: str) -> str:
    return site.shell(f"from django.contrib.auth.models import Group, User\n{code}")


def member(site: LiveSite, name: str) -> dict | None:
    """What the site knows of a member: flags, groups, and the audit trail's group changes."""
    code = f"""
import json
user = User.objects.filter(username={name!r}).first()
print(json.dumps(user and {{
    "active": user.is_active, "staff": user.is_staff, "superuser": user.is_superuser,
    "usable_password": user.has_usable_password(), "email": user.email,
    "groups": sorted(user.groups.values_list("name", flat=True)),
    "audit": list(AuditEntry.objects.filter(action="groups", actor=user).order_by("id")
                  .values_list("detail", flat=True)),
}}))
"""
    return json.loads(shell(site, code).strip().splitlines()[-1])


def test_the_first_sign_in_creates_the_member_with_the_mapped_groups(idp, site):
    idp.user("carol", PASSWORD, ["idp-reviewers", "Domain Users"])

    session = sign_in(site.base_url, "carol", PASSWORD)

    assert session.landed.url == f"{site.base_url}/"
    assert signed_in_as(session, site.base_url)
    carol = member(site, "carol")
    assert carol["groups"] == ["Reviewers"]  # "Domain Users" is mapped to nothing here
    assert carol["email"] == "carol@example.com"
    assert not carol["usable_password"]  # signs in through the provider only
    assert not carol["staff"] and not carol["superuser"]
    assert carol["audit"] == ["added carol to Reviewers"]


def test_groups_follow_the_directory_on_every_sign_in(idp, site):
    idp.user("dave", PASSWORD, ["idp-reviewers"])
    sign_in(site.base_url, "dave", PASSWORD)
    site.shell(
        "from django.contrib.auth.models import Group, User; "
        "User.objects.get(username='dave').groups.add(Group.objects.get(name='Local only'))"
    )
    idp.user("dave", groups=["idp-gpt"])

    session = sign_in(site.base_url, "dave", PASSWORD)

    assert signed_in_as(session, site.base_url)
    dave = member(site, "dave")
    assert dave["groups"] == ["GPT users", "Local only"]
    assert dave["audit"] == [
        "added dave to Reviewers",
        "added dave to GPT users",
        "removed dave from Reviewers",
    ]


def test_an_empty_groups_claim_removes_every_mapped_group(idp, site):
    idp.user("erin", PASSWORD, ["idp-reviewers", "idp-gpt"])
    sign_in(site.base_url, "erin", PASSWORD)
    assert member(site, "erin")["groups"] == ["GPT users", "Reviewers"]
    idp.user("erin", groups=[])

    sign_in(site.base_url, "erin", PASSWORD)

    erin = member(site, "erin")
    assert erin["groups"] == []
    assert erin["audit"][-2:] == ["removed erin from GPT users", "removed erin from Reviewers"]


def test_a_missing_groups_claim_changes_nothing(idp, site):
    idp.user("frank", PASSWORD, ["idp-reviewers"])
    sign_in(site.base_url, "frank", PASSWORD)
    idp.user("frank", groups=[])

    # Without the groups scope the provider leaves the claim out of the ID token and userinfo.
    session = sign_in(site.base_url, "frank", PASSWORD, drop_scope="groups")

    assert signed_in_as(session, site.base_url)
    frank = member(site, "frank")
    assert frank["groups"] == ["Reviewers"]
    assert frank["audit"] == ["added frank to Reviewers"]


def test_a_user_deactivated_at_the_provider_cannot_sign_in(idp, site):
    idp.user("gina", PASSWORD, [])
    assert signed_in_as(sign_in(site.base_url, "gina", PASSWORD), site.base_url)
    idp.user("gina", active=False)

    session = sign_in(site.base_url, "gina", PASSWORD)

    assert "/login/" in session.landed.url  # the provider's form again: no code comes back to the site
    assert not signed_in_as(session, site.base_url)


def test_a_member_deactivated_here_is_refused_though_the_provider_vouches(idp, site):
    idp.user("henry", PASSWORD, ["idp-reviewers"])
    sign_in(site.base_url, "henry", PASSWORD)
    shell(site, "User.objects.filter(username='henry').update(is_active=False)")
    idp.user("henry", groups=["idp-gpt"])

    session = sign_in(site.base_url, "henry", PASSWORD)

    assert session.landed.url == f"{site.base_url}/accounts/login/"
    assert "Your account on this site is deactivated." in session.landed.text
    assert not signed_in_as(session, site.base_url)
    assert member(site, "henry")["groups"] == ["Reviewers"]  # refused before any change


def test_a_directory_user_named_like_a_local_superuser_does_not_become_them(idp, site):
    shell(site, "User.objects.create_superuser('boss', 'boss@site.example', 'boss-local-password-1')")
    idp.user("boss", PASSWORD, ["idp-reviewers"])

    session = sign_in(site.base_url, "boss", PASSWORD)

    assert session.landed.url == f"{site.base_url}/accounts/login/"
    assert "Single sign-on did not sign you in." in session.landed.text
    assert not signed_in_as(session, site.base_url)
    boss = member(site, "boss")
    assert boss["superuser"] and boss["email"] == "boss@site.example" and boss["groups"] == []


def test_a_sign_in_started_from_a_page_comes_back_to_it(idp, site):
    idp.user("kate", PASSWORD, [])

    session = sign_in(site.base_url, "kate", PASSWORD, next_path="/settings/")

    assert session.landed.url == f"{site.base_url}/settings/"
    assert session.landed.status_code == 200


def test_logging_out_ends_the_local_session(idp, site):
    idp.user("iris", PASSWORD, [])
    session = sign_in(site.base_url, "iris", PASSWORD)
    assert signed_in_as(session, site.base_url)

    response = session.post(
        f"{site.base_url}/accounts/logout/",
        data={"csrfmiddlewaretoken": session.cookies.get("csrftoken", domain="127.0.0.1")},
        headers={"Referer": f"{site.base_url}/"},
    )

    assert response.ok
    assert not signed_in_as(session, site.base_url)


def test_the_login_page_offers_the_provider_by_name(site):
    import requests

    page = requests.get(f"{site.base_url}/accounts/login/", timeout=10)

    assert "Sign in with Example ID" in page.text
    assert 'name="password"' in page.text  # not SSO-only: passwords still work


# The ID token's checks, in this process, with tokens the provider really issued and its keys over HTTP.


@pytest.fixture
def backend(idp, settings):
    settings.OIDC_ISSUER = idp.issuer
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    for name in ("OIDC_OP_AUTHORIZATION_ENDPOINT", "OIDC_OP_TOKEN_ENDPOINT", "OIDC_OP_USER_ENDPOINT"):
        setattr(settings, name, "")
    settings.OIDC_OP_JWKS_ENDPOINT = ""
    return sso.SSOBackend()


def tokens_for(idp, site, client_id: str) -> tuple[str, str]:
    idp.user("jack", PASSWORD, ["idp-reviewers"])
    if client_id == CLIENT_ID:
        tokens, nonce = provider_tokens(
            idp.url, idp.issuer, CLIENT_ID, CLIENT_SECRET, f"{site.base_url}/oidc/callback/", "jack", PASSWORD
        )
    else:
        tokens, nonce = provider_tokens(
            idp.url, idp.issuer, OTHER_ID, OTHER_SECRET, OTHER_REDIRECT, "jack", PASSWORD
        )
    return tokens["id_token"], nonce


def test_an_id_token_made_for_us_passes(idp, site, backend):
    token, nonce = tokens_for(idp, site, CLIENT_ID)

    claims = backend.verify_token(token, nonce=nonce)

    assert claims["preferred_username"] == "jack"
    assert claims["aud"] == CLIENT_ID


def test_an_id_token_made_for_another_application_is_refused(idp, site, backend):
    token, nonce = tokens_for(idp, site, OTHER_ID)

    with pytest.raises(SuspiciousOperation, match=r"(?i)audience"):
        backend.verify_token(token, nonce=nonce)


def test_an_id_token_signed_with_another_key_is_refused(idp, site, backend):
    token, nonce = tokens_for(idp, site, CLIENT_ID)
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    impostor = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(
        {**claims, "preferred_username": "admin"}, impostor, algorithm="RS256", headers=header
    )

    with pytest.raises(SuspiciousOperation):
        backend.verify_token(forged, nonce=nonce)


def test_an_id_token_with_a_changed_claim_is_refused(idp, site, backend):
    token, nonce = tokens_for(idp, site, CLIENT_ID)
    head, _payload, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    payload = jwt.utils.base64url_encode(
        json.dumps({**claims, "preferred_username": "admin"}).encode()
    ).decode()

    with pytest.raises(SuspiciousOperation):
        backend.verify_token(f"{head}.{payload}.{signature}", nonce=nonce)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"iss": "http://127.0.0.1:9/o"}, "issuer"),
        ({"exp": int(time.time()) - 3600}, "expired"),
        ({"aud": [OTHER_ID, CLIENT_ID], "azp": OTHER_ID}, "azp"),
    ],
)
def test_an_id_token_from_the_providers_own_key_is_still_checked(idp, site, backend, change, reason):
    token, nonce = tokens_for(idp, site, CLIENT_ID)
    claims = {**jwt.decode(token, options={"verify_signature": False}), **change}
    resigned = jwt.encode(
        claims, idp.private_key, algorithm="RS256", headers=jwt.get_unverified_header(token)
    )

    with pytest.raises(SuspiciousOperation, match=reason):
        backend.verify_token(resigned, nonce=nonce)


def test_a_replayed_nonce_is_refused(idp, site, backend):
    token, _nonce = tokens_for(idp, site, CLIENT_ID)

    with pytest.raises(SuspiciousOperation, match="Nonce"):
        backend.verify_token(token, nonce="another-sign-in")


def test_a_discovery_document_naming_another_issuer_is_not_used(idp):
    # The provider's document says http://.../o; asked for as http://.../o/ it names another issuer.
    with pytest.raises(sso.ProviderError):
        sso.discovery(idp.issuer + "/")
    assert sso.discovery(idp.issuer)["issuer"] == idp.issuer


@pytest.mark.parametrize("token", ["not-a-jwt", "a.b.c"])
def test_an_id_token_that_is_no_jwt_is_a_refusal_not_a_crash(idp, backend, token):
    with pytest.raises(sso.PROVIDER_FAILURES):
        backend.verify_token(token, nonce="n")
