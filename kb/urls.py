"""Root URL configuration: the admin on a configurable path, the pages, the API."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from incidents import health
from incidents.api.errors import api_not_found

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path(settings.ADMIN_URL, admin.site.urls),
    path("api/v1/", include("incidents.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    re_path(r"^api/(?:.*/)?$", api_not_found),
    path("chat/", include("incidents.chat.urls")),
    # set_language: the language switch posts here with `next`, the page to return to.
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("incidents.urls")),
]
