"""/imports/: start an import, and follow it."""

from django.urls import path

from chat.imports import views

urlpatterns = [
    path("", views.upload, name="import_upload"),
    path("latest.json", views.latest, name="import_latest"),
    path("<id:pk>.json", views.status, name="import_status"),
]
