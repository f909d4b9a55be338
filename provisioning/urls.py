"""Web console pages of the provisioning app."""

from django.urls import path

from provisioning.views import home

app_name = "provisioning"

urlpatterns = [
    path("", home.home, name="home"),
]
