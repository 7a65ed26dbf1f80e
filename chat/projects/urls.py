from django.urls import path

from chat.attachments import pinning
from chat.lib.params import register_id_converter
from chat.projects import views

register_id_converter()

urlpatterns = [
    path("list.json", views.project_list, name="project_list"),
    path("new/", views.project_create, name="project_create"),
    path("<id:pk>/", views.project_page, name="project"),
    path("<id:pk>/update/", views.project_update, name="project_update"),
    path("<id:pk>/delete/", views.project_delete, name="project_delete"),
    path("<id:pk>/share/", views.project_share, name="project_share"),
    path("<id:pk>/files/", pinning.project_files, name="project_files"),
    path("<id:pk>/files/<str:attachment>/", pinning.project_file, name="project_file"),
]
