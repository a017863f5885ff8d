"""Root URL configuration: the admin on a configurable path, the pages, the API."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path(settings.ADMIN_URL, admin.site.urls),
    path("", include("incidents.urls")),
]
