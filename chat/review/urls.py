from django.urls import path

from chat.lib.params import register_id_converter
from chat.review import attachments, views

register_id_converter()

app_name = "review"

urlpatterns = [
    path("", views.conversation_list, name="list"),
    path("<id:pk>/", views.transcript, name="transcript"),
    path("<id:pk>/flag/", views.flag, name="flag"),
    path("flags/", views.flag_list, name="flags"),
    path("flags/<id:pk>/resolve/", views.resolve_flag, name="resolve_flag"),
    path("export/", views.export, name="export"),
    path("attachments/<str:pk>/", attachments.attachment_file, name="attachment"),
    path("attachments/<str:pk>/thumbnail/", attachments.attachment_thumbnail, name="attachment_thumbnail"),
]
