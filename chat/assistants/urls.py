"""The assistants' pages; chat/urls.py includes them under its `chat` namespace."""

from django.urls import path

from chat.assistants import views
from chat.attachments import pinning

urlpatterns = [
    path("", views.gallery, name="assistants"),
    path("list.json", views.picker_list, name="assistant_list"),
    path("new/", views.create, name="assistant_create"),
    path("<id:pk>/edit/", views.edit, name="assistant_edit"),
    path("<id:pk>/history/", views.history, name="assistant_history"),
    path("<id:pk>/roll-back/<id:number>/", views.roll_back, name="assistant_roll_back"),
    path("<id:pk>/delete/", views.delete, name="assistant_delete"),
    path("<id:pk>/files/", pinning.assistant_files, name="assistant_files"),
    path("<id:pk>/files/<str:attachment>/", pinning.assistant_file, name="assistant_file"),
]
