from django.urls import path

from chat.review import views

app_name = "review"

urlpatterns = [
    path("", views.conversation_list, name="list"),
    path("<int:pk>/", views.transcript, name="transcript"),
    path("<int:pk>/flag/", views.flag, name="flag"),
    path("flags/", views.flag_list, name="flags"),
    path("flags/<int:pk>/resolve/", views.resolve_flag, name="resolve_flag"),
    path("export/", views.export, name="export"),
]
