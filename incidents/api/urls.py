"""/api/v1/ routes (namespace "api"). kb/urls.py mounts this, the schema and the docs."""

from __future__ import annotations

from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from incidents.api import views
from incidents.api.errors import api_not_found

app_name = "api"

router = SimpleRouter()
router.register("stories", views.StoryViewSet, basename="story")
router.register("rules", views.RuleViewSet, basename="rule")

urlpatterns = [
    path("", views.ApiRootView.as_view(), name="root"),
    path("check/", views.CheckView.as_view(), name="check"),
    path("match/", views.MatchView.as_view(), name="match"),
    path("exposure/", views.ExposureView.as_view(), name="exposure"),
    *router.urls,
    # Anything else under /api/v1/ ending in a slash: a JSON 404, not the HTML page.
    re_path(r"^(?:.*/)?$", api_not_found),
]
