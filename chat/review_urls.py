from django.urls import path

from chat import review
from chat.params import register_id_converter

register_id_converter()

app_name = "review"

urlpatterns = [
    path("", review.conversation_list, name="list"),
    path("<id:pk>/", review.transcript, name="transcript"),
    path("<id:pk>/flag/", review.flag, name="flag"),
    path("flags/", review.flag_list, name="flags"),
    path("flags/<id:pk>/resolve/", review.resolve_flag, name="resolve_flag"),
    path("export/", review.export, name="export"),
]
