from django.contrib import admin
from django.urls import include, path

from chat import accounts, i18n

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", i18n.javascript_catalog, name="javascript-catalog"),
    path("accounts/signup/", accounts.signup, name="signup"),
    path("accounts/invitation/<uidb64>/<token>/", accounts.InvitationView.as_view(), name="invitation"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("review/", include("chat.review_urls")),
    path("", include("chat.urls")),
]
