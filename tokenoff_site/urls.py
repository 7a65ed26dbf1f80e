from django.contrib import admin
from django.urls import include, path

from chat.accounts import invitations
from chat.lib import i18n

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", i18n.javascript_catalog, name="javascript-catalog"),
    path("accounts/signup/", invitations.signup, name="signup"),
    path("accounts/invitation/<uidb64>/<token>/", invitations.InvitationView.as_view(), name="invitation"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("review/", include("chat.review.urls")),
    path("", include("chat.urls")),
]
