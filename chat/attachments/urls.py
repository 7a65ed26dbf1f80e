"""/api/attachments/: upload, and the file to its owner."""

from django.urls import path

from chat.attachments import serving, uploads

urlpatterns = [
    path("", uploads.upload, name="attachment_upload"),
    path("<str:pk>/", serving.attachment_file, name="attachment"),
    path("<str:pk>/thumbnail/", serving.attachment_thumbnail, name="attachment_thumbnail"),
]
