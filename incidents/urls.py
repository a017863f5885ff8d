from django.urls import path

from incidents import views

app_name = "incidents"

urlpatterns = [
    path("", views.story_list, name="home"),
    path("stories/", views.story_list, name="story_list"),
    path("stories/<slug:slug>/", views.story_detail, name="story"),
    path("categories/<slug:slug>/", views.category_detail, name="category"),
    path("technologies/<slug:slug>/", views.technology_detail, name="technology"),
    path("rules/<str:rule_id>/", views.rule_detail, name="rule"),
]
