"""The REST API, version 1, one module per resource. Thin: validate, call a selector, the search
interface or a service, serialize.

Reads are public. Writes need an API token (`Authorization: Bearer kb_...`) of a user with the
model permission (add/change story) and, for updates, `If-Match` with the story's ETag. Shared
policy is in `incidents.api.base`, schema plumbing in `incidents.api.schema`, the story list's
pagination in `incidents.api.pagination`.
"""

from incidents.api.views.check import CheckView
from incidents.api.views.exposure import ExposureView
from incidents.api.views.match import MatchView
from incidents.api.views.root import ApiRootView
from incidents.api.views.rules import RuleViewSet
from incidents.api.views.stories import StoryViewSet

__all__ = [
    "ApiRootView",
    "CheckView",
    "ExposureView",
    "MatchView",
    "RuleViewSet",
    "StoryViewSet",
]
