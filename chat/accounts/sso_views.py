"""The log-in page with its single sign-on button, and the two legs of the OpenID Connect round trip."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.generic import View
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from chat.accounts import sso

logger = logging.getLogger(__name__)


class LogInForm(AuthenticationForm):
    """Django's log-in form; in SSO-only mode any refusal says to use the provider instead."""

    def get_invalid_login_error(self) -> ValidationError:
        if sso.password_login_closed():
            # One message whether the password was wrong or the member is not a superuser: the page
            # must not tell which of a member's passwords is right.
            message = _("Password log-in is for administrators only. Use “Sign in with %(name)s”.")
            return ValidationError(message, code="sso_only", params={"name": sso.provider_name()})
        return super().get_invalid_login_error()


class LogInView(auth_views.LoginView):
    authentication_form = LogInForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["sso"] = {
            "enabled": sso.enabled(),
            "only": sso.password_login_closed(),
            "name": sso.provider_name(),
        }
        return context


def _provider_unreachable(request: HttpRequest, error: Exception) -> HttpResponse:
    logger.warning("Single sign-on: the identity provider cannot be used: %s", error)
    messages.error(request, _("The sign-in service cannot be reached just now. Try again in a moment."))
    return redirect(settings.LOGIN_URL)


class SignIn(OIDCAuthenticationRequestView):
    """Off to the provider's authorization endpoint, with a fresh state, nonce and PKCE challenge."""

    get_settings = staticmethod(sso.setting)

    def __init__(self, **kwargs) -> None:
        # mozilla-django-oidc reads the endpoint here; it is looked up in get(), where a failure can
        # be told to the member instead of answering 500.
        View.__init__(self, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        if not sso.enabled():
            raise Http404(_("Single sign-on is not set up on this site."))
        try:
            self.OIDC_OP_AUTH_ENDPOINT = sso.setting("OIDC_OP_AUTHORIZATION_ENDPOINT")
        except (sso.ProviderError, *sso.PROVIDER_FAILURES) as error:
            return _provider_unreachable(request, error)
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        return super().get(request)


class Callback(OIDCAuthenticationCallbackView):
    """Back from the provider: the code exchanged, the ID token checked, the member signed in."""

    get_settings = staticmethod(sso.setting)

    def get(self, request: HttpRequest) -> HttpResponse:
        if not sso.enabled():
            raise Http404(_("Single sign-on is not set up on this site."))
        return super().get(request)

    def login_failure(self) -> HttpResponse:
        reason = getattr(self.request, "sso_refusal", None)
        messages.error(self.request, reason or _("Single sign-on did not sign you in. Try again."))
        return redirect(settings.LOGIN_URL)
