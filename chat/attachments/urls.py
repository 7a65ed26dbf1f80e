"""/api/attachments/: upload, and the file to its owner."""

urlpatterns: list = []
