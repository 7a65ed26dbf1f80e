from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "TokenOff Chat administration"
admin.site.site_title = "TokenOff Chat"
admin.site.site_url = "/"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("review/", include("chat.review_urls")),
    path("", include("chat.urls")),
]
