from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from chat import accounts

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/signup/", accounts.signup, name="signup"),
    path("accounts/invitation/<uidb64>/<token>/", accounts.InvitationView.as_view(), name="invitation"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("review/", include("chat.review_urls")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("", include("chat.urls")),
]
