from django.urls import path

from incidents.chat import views

app_name = "chat"

urlpatterns = [
    path("slack/", views.slack_command, name="slack"),
    path("mattermost/", views.mattermost_command, name="mattermost"),
    path("teams/", views.teams_command, name="teams"),
]
