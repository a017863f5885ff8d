from django.contrib.sitemaps import views as sitemap_views
from django.urls import path
from django.views.decorators.cache import cache_page

from incidents.feeds import CategoryFeed, StoryFeed
from incidents.sitemaps import SITEMAPS
from incidents.views import (
    admission,
    browse,
    dataset,
    exposure,
    find,
    overview,
    rules,
    site,
    suggest,
)

app_name = "incidents"

urlpatterns = [
    path("", browse.home, name="home"),
    path("search/", find.search_page, name="search"),
    path("stories/", browse.story_list, name="story_list"),
    path("stories/<slug:slug>/", browse.story_detail, name="story"),
    path("categories/<slug:slug>/", browse.category_detail, name="category"),
    path("technologies/<slug:slug>/", browse.technology_detail, name="technology"),
    path("platforms/<slug:slug>/", browse.platform_detail, name="platform"),
    path("rules/", rules.rule_list, name="rule_list"),
    path("rules/<str:rule_id>/", rules.rule_detail, name="rule"),
    path("check/", rules.check, name="check"),
    path("exposure/", exposure.exposure, name="exposure"),
    # The validating admission webhook (docs/admission.md); the API server posts without a slash.
    path("admission/validate", admission.validate, name="admission_validate"),
    path("overview/", overview.overview, name="overview"),
    path("data/", dataset.dataset_page, name="dataset"),
    path("data/stories.json", dataset.dataset_json, name="dataset_json"),
    path("data/stories.csv", dataset.dataset_csv, name="dataset_csv"),
    path("data/schema.json", dataset.dataset_schema, name="dataset_schema"),
    path("feeds/stories.atom", StoryFeed(), name="feed"),
    path("feeds/categories/<slug:slug>.atom", CategoryFeed(), name="category_feed"),
    path(
        "sitemap.xml",
        cache_page(60 * 15)(sitemap_views.index),
        {"sitemaps": SITEMAPS, "sitemap_url_name": "incidents:sitemap_section"},
        name="sitemap",
    ),
    path(
        "sitemap-<slug:section>.xml",
        cache_page(60 * 15)(sitemap_views.sitemap),
        {"sitemaps": SITEMAPS, "template_name": "incidents/sitemap.xml"},
        name="sitemap_section",
    ),
    path("suggest/", suggest.suggest, name="suggest"),
    path("suggest/thanks/", suggest.suggest_thanks, name="suggest_thanks"),
    path("favicon.ico", site.favicon, name="favicon"),
]
