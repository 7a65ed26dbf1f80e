"""Getting in: invitation links for the accounts admins create, and open sign-up when the site allows it."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.contrib.auth.views import PasswordResetConfirmView
from django.core.mail import send_mail
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters

from chat.accounts import sso
from chat.accounts.forms import SignupForm
from chat.models import SiteSettings


class InvitationTokens(PasswordResetTokenGenerator):
    """Password-reset tokens with their own salt and lifetime: used once, void once a password is set."""

    key_salt = "chat.accounts.InvitationTokens"

    @property
    def timeout(self) -> int:
        return settings.TOKENOFF_INVITATION_DAYS * 24 * 3600

    def check_token(self, user, token) -> bool:
        # Django's check_token, reading this timeout instead of PASSWORD_RESET_TIMEOUT: stretching that
        # setting for invitations would stretch every password-reset link with it.
        if not (user and token):
            return False
        try:
            stamp, _hash = token.split("-")
            made = base36_to_int(stamp)
        except ValueError:
            return False
        if self._num_seconds(self._now()) - made > self.timeout:
            return False
        # The hash covers the password and the last login: a link is void once either changes.
        secrets = [self.secret, *self.secret_fallbacks]
        return any(
            constant_time_compare(self._make_token_with_timestamp(user, made, s), token) for s in secrets
        )


invitation_tokens = InvitationTokens()


@dataclass
class Invitation:
    link: str
    mailed: bool


def invitation_link(request: HttpRequest, user) -> str:
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    path = reverse("invitation", kwargs={"uidb64": uidb64, "token": invitation_tokens.make_token(user)})
    return request.build_absolute_uri(path)


def invite(request: HttpRequest, user) -> Invitation:
    """A fresh link to choose a password, mailed when the site can send mail and the user has an address."""
    link = invitation_link(request, user)
    mailed = bool(settings.TOKENOFF_SEND_EMAIL and user.email)
    if mailed:
        days = settings.TOKENOFF_INVITATION_DAYS
        body = _(
            "Hello %(name)s,\n\nAn account on your team's TokenOff Chat is waiting for you. Choose your "
            "password here (the link works once, for %(days)s days):\n\n%(link)s\n"
        )
        send_mail(
            _("Your TokenOff Chat account"),
            body % {"name": user.get_username(), "days": days, "link": link},
            None,
            [user.email],
        )
    return Invitation(link, mailed)


class InvitationView(PasswordResetConfirmView):
    """Choose a password from an invitation link, then straight into the chat."""

    token_generator = invitation_tokens
    template_name = "registration/invitation.html"
    post_reset_login = True
    # Named, since django-axes adds a second backend.
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"
    success_url = reverse_lazy("chat:home")

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        # A deactivated account's link opens nothing; nor, in SSO-only mode, a member's (they sign in
        # through the identity provider).
        if user is None or not user.is_active or (sso.password_login_closed() and not user.is_superuser):
            return None
        return user


@sensitive_post_parameters("password1", "password2")
def signup(request: HttpRequest) -> HttpResponse:
    """Open sign-up, when the site settings allow it; otherwise there is no such page."""
    if not SiteSettings.current().open_signup or sso.password_login_closed():
        raise Http404(_("Sign-up is closed on this site."))
    if request.user.is_authenticated:
        return redirect("chat:home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("chat:home")
    return render(request, "registration/signup.html", {"form": form}, status=400 if form.errors else 200)
