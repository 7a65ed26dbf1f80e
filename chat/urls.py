from django.urls import include, path

from chat.accounts import preferences
from chat.conversations import api, views
from chat.lib import health

app_name = "chat"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("usage/", include("chat.usage.urls")),
    path("c/<int:pk>/", views.conversation, name="conversation"),
    path("c/list.json", api.conversation_list, name="conversation_list"),
    path("c/search.json", api.conversation_search, name="conversation_search"),
    path("c/<int:pk>/update/", api.conversation_update, name="conversation_update"),
    path("c/<int:pk>/delete/", api.conversation_delete, name="conversation_delete"),
    path("c/<int:pk>/thread.json", api.thread, name="thread"),
    path("c/<int:pk>/branch/", api.show_branch, name="show_branch"),
    path("m/<int:pk>/feedback/", api.feedback, name="feedback"),
    path("c/<int:pk>/export.json", views.export_json, name="export_json"),
    path("c/<int:pk>/export.md", views.export_md, name="export_md"),
    path("c/<int:pk>/settings/", preferences.conversation_settings, name="conversation_settings"),
    path("settings/", preferences.settings_page, name="settings"),
    path("settings/key/", preferences.set_key, name="set_key"),
    path("settings/key/test/", preferences.test_key, name="test_key"),
    path("settings/key/delete/", preferences.delete_key, name="delete_key"),
    path("settings/preferences/", preferences.save_preferences, name="save_preferences"),
]
