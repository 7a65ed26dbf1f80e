"""The usage pages; chat/urls.py includes them under its `chat` namespace (chat:usage, ...)."""

from django.urls import path

from chat.usage import views

urlpatterns = [
    path("", views.mine, name="usage"),
    path("team/", views.team, name="usage_team"),
    path("team.csv", views.team_csv, name="usage_team_csv"),
]
