from django.contrib import admin
from django.urls import include, path

from chat.accounts import invitations, sso_views
from chat.lib import i18n

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", i18n.javascript_catalog, name="javascript-catalog"),
    path("accounts/signup/", invitations.signup, name="signup"),
    path("accounts/invitation/<uidb64>/<token>/", invitations.InvitationView.as_view(), name="invitation"),
    # Django's log-in view with the single sign-on button (and SSO-only mode's refusals) before the rest.
    path("accounts/login/", sso_views.LogInView.as_view(), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    # Single sign-on's round trip; both answer 404 while OIDC_ISSUER is unset. Logging out is
    # accounts/logout/ as for everyone.
    path("oidc/authenticate/", sso_views.SignIn.as_view(), name="oidc_authentication_init"),
    path("oidc/callback/", sso_views.Callback.as_view(), name="oidc_authentication_callback"),
    path("review/", include("chat.review.urls")),
    path("", include("chat.urls")),
]
