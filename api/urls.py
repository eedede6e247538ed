from django.urls import path, re_path

from . import endpoint, views

urlpatterns = [
    path("api/", endpoint.endpoint, name="api_endpoint"),
    # Without the slash too: Django's APPEND_SLASH cannot redirect a POST, and a client would get a page.
    path("api", endpoint.endpoint),
    re_path(r"^api/(?P<path>.+)$", endpoint.unknown_path),
    path("api-keys/", views.api_keys, name="api_keys"),
    path("api-keys/docs/", views.api_docs, name="api_docs"),
    path("api-keys/<int:pk>/disable/", views.api_key_disable, name="api_key_disable"),
    path("api-keys/<int:pk>/enable/", views.api_key_enable, name="api_key_enable"),
    path("api-keys/<int:pk>/delete/", views.api_key_delete, name="api_key_delete"),
]
