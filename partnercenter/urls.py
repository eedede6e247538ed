from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from partnercenter import views as root_views

admin.site.site_header = "Partner Center administration"
admin.site.site_title = "Partner Center admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("login/", auth_views.LoginView.as_view(template_name="registration/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", root_views.root, name="home"),
]
