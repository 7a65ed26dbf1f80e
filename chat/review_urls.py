from django.urls import path

from chat import review

app_name = "review"

urlpatterns = [
    path("", review.conversation_list, name="list"),
    path("<int:pk>/", review.transcript, name="transcript"),
    path("<int:pk>/flag/", review.flag, name="flag"),
    path("flags/", review.flag_list, name="flags"),
    path("flags/<int:pk>/resolve/", review.resolve_flag, name="resolve_flag"),
    path("export/", review.export, name="export"),
]
