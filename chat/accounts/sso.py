"""Single sign-on over OpenID Connect: the provider's endpoints, the log-in backends, directory groups."""

from __future__ import annotations

import logging

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import PermissionDenied, SuspiciousOperation, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings

from chat.models.audit import AuditEntry, record

logger = logging.getLogger(__name__)

# mozilla-django-oidc's setting for each endpoint, and its name in the provider's discovery document.
ENDPOINTS = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}
# A ProviderError or any of these: the provider could not be asked, or answered nonsense (a JSON error,
# a key without its `kid`, a token that is no JWT at all).
PROVIDER_FAILURES = (requests.RequestException, ValueError, KeyError, jwt.PyJWTError)


class ProviderError(Exception):
    """The identity provider's discovery document cannot be used."""


def enabled() -> bool:
    return bool(settings.OIDC_ISSUER)


def password_login_closed() -> bool:
    """SSO-only: nobody but a superuser signs in with a password (or gets one by invitation or sign-up)."""
    return enabled() and settings.OIDC_SSO_ONLY


def provider_name() -> str:
    return settings.OIDC_PROVIDER_NAME or _("single sign-on")


_discovered: dict[str, dict] = {}


def discovery(issuer: str) -> dict:
    """The provider's discovery document, fetched at first use and kept for the life of the process."""
    document = _discovered.get(issuer)
    if document is None:
        response = requests.get(
            issuer.rstrip("/") + "/.well-known/openid-configuration", timeout=settings.OIDC_TIMEOUT
        )
        response.raise_for_status()
        document = response.json()
        # OpenID Connect Discovery 4.3: a document naming another issuer must not be used.
        if not isinstance(document, dict) or document.get("issuer") != issuer:
            raise ProviderError(f"The discovery document at {issuer} names another issuer.")
        _discovered[issuer] = document
    return document


def setting(attr: str, *default):
    """mozilla-django-oidc's settings, with each endpoint not given explicitly read from discovery."""
    if attr in ENDPOINTS and not getattr(settings, attr, ""):
        # The userinfo endpoint is optional (OpenID Connect Discovery 3): without it, the ID token's claims.
        value = discovery(settings.OIDC_ISSUER).get(ENDPOINTS[attr])
        if not value and attr != "OIDC_OP_USER_ENDPOINT":
            raise ProviderError(f"The provider's discovery document has no {ENDPOINTS[attr]}.")
        return value
    return import_from_settings(attr, *default)


def _from_settings(attr: str) -> property:
    return property(lambda self: setting(attr))


class SSOBackend(OIDCAuthenticationBackend):
    """Signs a member in from the provider's ID token, checked in full, and brings their groups along."""

    # Read when used, not in __init__ as mozilla-django-oidc does: Django builds every backend for every
    # password log-in too, which must neither fetch the discovery document nor fail without it.
    OIDC_OP_TOKEN_ENDPOINT = _from_settings("OIDC_OP_TOKEN_ENDPOINT")
    OIDC_OP_USER_ENDPOINT = _from_settings("OIDC_OP_USER_ENDPOINT")
    OIDC_OP_JWKS_ENDPOINT = _from_settings("OIDC_OP_JWKS_ENDPOINT")
    OIDC_RP_CLIENT_ID = _from_settings("OIDC_RP_CLIENT_ID")
    OIDC_RP_CLIENT_SECRET = _from_settings("OIDC_RP_CLIENT_SECRET")
    OIDC_RP_SIGN_ALGO = _from_settings("OIDC_RP_SIGN_ALGO")
    OIDC_RP_IDP_SIGN_KEY = None  # always the provider's published keys (JWKS), so that rotation just works

    def __init__(self, *args, **kwargs) -> None:
        self.UserModel = get_user_model()
        self.claims: dict = {}

    @staticmethod
    def get_settings(attr, *args):
        return setting(attr, *args)

    def get_user(self, user_id):
        # ModelBackend's, not mozilla-django-oidc's: a member deactivated here is signed out at once.
        return ModelBackend.get_user(self, user_id)

    def authenticate(self, request, **kwargs):
        # A password log-in's credentials are not ours; without an issuer single sign-on is off.
        if not enabled() or request is None or "password" in kwargs:
            return None
        try:
            return super().authenticate(request, **kwargs)
        except (SuspiciousOperation, ProviderError, *PROVIDER_FAILURES) as error:
            # The log says why, the page only that it failed: the reasons help an attacker more than a member.
            logger.warning("Single sign-on refused: %s", error)
            return None

    def get_payload_data(self, token, key) -> dict:
        """The ID token's claims, once its signature, issuer, audience and expiry are all right."""
        algorithm = self.OIDC_RP_SIGN_ALGO
        if jwt.get_unverified_header(token).get("alg") != algorithm:
            raise SuspiciousOperation(f"The ID token is not signed with {algorithm}.")
        try:
            # mozilla-django-oidc checks the signature and expiry only; OpenID Connect Core 3.1.3.7
            # asks for the issuer and the audience too: a token the provider made for another of its
            # applications must not sign anyone in here.
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=settings.OIDC_ISSUER,
                leeway=60,
                options={"require": ["iss", "aud", "exp", "iat", "sub"]},
            )
        except jwt.InvalidTokenError as error:
            raise SuspiciousOperation(f"ID token refused: {error}") from None
        audience = claims["aud"]
        if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != self.OIDC_RP_CLIENT_ID:
            raise SuspiciousOperation("ID token refused: several audiences and we are not its azp.")
        return claims

    def get_userinfo(self, access_token, id_token, payload) -> dict:
        """The ID token's claims, completed by the userinfo endpoint's when the provider has one."""
        claims = dict(payload)
        if self.OIDC_OP_USER_ENDPOINT:
            userinfo = super().get_userinfo(access_token, id_token, payload)
            # OpenID Connect Core 5.3.2: userinfo about someone else must not be used.
            if userinfo.get("sub") != payload.get("sub"):
                raise SuspiciousOperation("The userinfo response is about another subject.")
            claims.update(userinfo)
        self.claims = claims
        return claims

    def username(self, claims: dict) -> str:
        return claims.get(settings.OIDC_USERNAME_CLAIM) or ""

    def verify_claims(self, claims) -> bool:
        name = self.username(claims)
        try:
            if not isinstance(name, str) or not name or len(name) > 150:
                raise ValidationError("empty or too long")
            UnicodeUsernameValidator()(name)
        except ValidationError:
            logger.warning(
                "Single sign-on: the %s claim %r cannot name a member.", settings.OIDC_USERNAME_CLAIM, name
            )
            return False
        return True

    def filter_users_by_claims(self, claims):
        # By the username claim, not by email: an address can be changed, reused or shared, and two
        # members may hold one; the provider vouches for the username it asserts. Without regard to
        # case, as directories compare names (two local members differing only in case: refused).
        return self.UserModel.objects.filter(username__iexact=self.username(claims))

    def describe_user_by_claims(self, claims) -> str:
        return f"username {self.username(claims)}"

    def create_user(self, claims):
        # No password (an unusable one): this member signs in through the provider only.
        user = self.UserModel.objects.create_user(self.username(claims), email=_email(claims))
        _copy_names(user, claims)
        logger.info("Single sign-on created the member %s.", user.get_username())
        return user

    def update_user(self, user, claims):
        if not user.is_active:
            return user  # refused by get_or_create_user, before the provider's claims change anything
        if user.is_superuser and user.has_usable_password():
            # A directory user who happens to bear a local administrator's name (a preferred_username
            # anyone may pick, an "admin" in the realm) must not become that administrator: superusers
            # keep their password, even in SSO-only mode. Refused before their address or names change.
            logger.warning(
                "Single sign-on refused to sign in as the superuser %s: superusers use their password.",
                user.get_username(),
            )
            return None
        email = _email(claims)
        if email and email != user.email:
            user.email = email
            user.save(update_fields=["email"])
        _copy_names(user, claims)
        return user

    def get_or_create_user(self, access_token, id_token, payload):
        user = super().get_or_create_user(access_token, id_token, payload)
        if user is None:
            return None
        if not user.is_active:
            # Deactivated here: the provider cannot bring them back.
            self.request.sso_refusal = _("Your account on this site is deactivated.")
            logger.warning("Single sign-on refused the deactivated member %s.", user.get_username())
            return None
        sync_groups(user, self.claims)
        # Never staff or superuser from the provider: those stay the site's own decision.
        return user


def _email(claims: dict) -> str:
    email = claims.get("email")
    if not isinstance(email, str) or claims.get("email_verified") is False:
        return ""
    return email[:254]


def _copy_names(user, claims: dict) -> None:
    changed = []
    for field, claim in (("first_name", "given_name"), ("last_name", "family_name")):
        value = claims.get(claim)
        if isinstance(value, str) and value[:150] != getattr(user, field):
            setattr(user, field, value[:150])
            changed.append(field)
    if changed:
        user.save(update_fields=changed)


def claimed_groups(claims: dict) -> list[str] | None:
    """The groups claim's names; None when there is no such claim (then groups stay as they are)."""
    name = settings.OIDC_GROUPS_CLAIM
    value = claims.get(name) if name else None
    if value is None:
        return None
    if isinstance(value, str):  # some providers send a lone group as a string
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        logger.warning("Single sign-on: the %s claim is not a list of names; groups left alone.", name)
        return None
    return value


@transaction.atomic
def sync_groups(user, claims: dict) -> list[str]:
    """Make the member's directory-managed groups those of the claim, with an audit entry for each change."""
    claimed = claimed_groups(claims)
    if claimed is None:
        return []
    mapping = settings.OIDC_GROUPS_MAP
    if mapping:
        managed = set(mapping.values())  # only the mapped groups follow the directory
        wanted = {mapping[name] for name in claimed if name in mapping}
        for name in wanted:
            Group.objects.get_or_create(name=name)
    else:
        # Every local group follows the claim by name; a claimed name with no such group is ignored
        # (a directory has many groups the chat has no use for).
        managed = set(Group.objects.values_list("name", flat=True))
        wanted = set(claimed) & managed
    current = set(user.groups.filter(name__in=managed).values_list("name", flat=True))
    member = user.get_username()
    changes = []
    for name in sorted(wanted - current):
        user.groups.add(Group.objects.get(name=name))
        changes.append(f"added {member} to {name}")
    for name in sorted(current - wanted):
        user.groups.remove(Group.objects.get(name=name))
        changes.append(f"removed {member} from {name}")
    for change in changes:
        record(user, AuditEntry.Action.GROUPS, detail=change)
    return changes


def exempt_from_lockout(request, credentials: dict | None) -> bool:
    """django-axes: a sign-in callback is no password guess (its code is single-use and bound to the session).

    Counted, five failures without a username (a provider down for a minute, deactivated members trying
    again) would lock single sign-on for everyone behind the same address.
    """
    return bool(credentials) and "code_verifier" in credentials and not credentials.get("username")


class PasswordGate:
    """In SSO-only mode, refuses a password log-in by anyone but a superuser, whichever form posts it.

    Only authenticate: with a get_user, Django's test client and login() would take it for the backend
    that signs people in.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not password_login_closed() or username is None or password is None:
            return None
        user = get_user_model()._default_manager.filter(username=username).first()
        if user is None or user.is_superuser:
            return None  # ModelBackend checks the password (and hashes one for an unknown name)
        # Hash as ModelBackend would, so that refusing takes as long as checking.
        get_user_model()().set_password(password)
        raise PermissionDenied
