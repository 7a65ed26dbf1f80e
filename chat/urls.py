from django.urls import include, path

from chat.accounts import preferences
from chat.conversations import api, counting, summaries, views
from chat.lib import health
from chat.lib.params import register_id_converter
from chat.projects import views as projects

register_id_converter()

app_name = "chat"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("usage/", include("chat.usage.urls")),
    path("assistants/", include("chat.assistants.urls")),
    path("api/attachments/", include("chat.attachments.urls")),
    path("api/v1/", include("chat.api.urls")),
    path("imports/", include("chat.imports.urls")),
    path("", include("chat.sharing.urls")),
    path("p/", include("chat.projects.urls")),
    path("c/<id:pk>/project/", projects.move, name="conversation_project"),
    path("c/<id:pk>/", views.conversation, name="conversation"),
    path("c/list.json", api.conversation_list, name="conversation_list"),
    path("c/search.json", api.conversation_search, name="conversation_search"),
    path("c/count.json", counting.count, name="count"),
    path("c/<id:pk>/update/", api.conversation_update, name="conversation_update"),
    path("c/<id:pk>/delete/", api.conversation_delete, name="conversation_delete"),
    path("c/<id:pk>/thread.json", api.thread, name="thread"),
    path("c/<id:pk>/branch/", api.show_branch, name="show_branch"),
    path("c/<id:pk>/context/", summaries.context, name="context"),
    path("m/<id:pk>/feedback/", api.feedback, name="feedback"),
    path("c/<id:pk>/export.json", views.export_json, name="export_json"),
    path("c/<id:pk>/export.md", views.export_md, name="export_md"),
    path("c/<id:pk>/settings/", preferences.conversation_settings, name="conversation_settings"),
    path("settings/", preferences.settings_page, name="settings"),
    path("settings/key/", preferences.set_key, name="set_key"),
    path("settings/key/test/", preferences.test_key, name="test_key"),
    path("settings/key/delete/", preferences.delete_key, name="delete_key"),
    path("settings/preferences/", preferences.save_preferences, name="save_preferences"),
    path("settings/tokens/", preferences.create_token, name="create_token"),
    path("settings/tokens/<id:pk>/revoke/", preferences.revoke_token, name="revoke_token"),
    path("settings/tokens/conversations/", preferences.save_api_preferences, name="save_api_preferences"),
]
