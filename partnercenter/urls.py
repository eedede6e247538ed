from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from console.access import not_customer
from partnercenter import views as root_views

handler400 = "partnercenter.views.bad_request"

admin.site.site_header = "Partner Center administration"
admin.site.site_title = "Partner Center admin"

urlpatterns = [
    # First: "/" is the console's home and the API's endpoint (POST), whose requests would
    # otherwise be matched against every pattern below.
    path("", root_views.root, name="home"),
    path("admin/", admin.site.urls),
    path("login/", root_views.SignInView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "account/password/",
        not_customer(auth_views.PasswordChangeView.as_view(success_url="/account/password/done/")),
        name="password_change",
    ),
    path("account/password/done/", not_customer(auth_views.PasswordChangeDoneView.as_view()), name="password_change_done"),
    path("i18n/setlang/", root_views.set_language, name="set_language"),
    path("customers/<int:uin>/", root_views.customer_page, name="customer-page"),
    path("customers/<int:uin>/usage.csv", root_views.customer_usage_export, name="customer-usage-export"),
    path("customers/", include("customers.urls")),
    path("portal/api-keys/", root_views.portal_api_keys, name="portal-api-keys"),
    path("portal/api-keys/<int:pk>/delete/", root_views.portal_api_key_delete, name="portal-api-key-delete"),
    path("portal/", include("portal.urls")),
    path("", include("notifications.urls")),
    path("", include("credits.urls")),
    path("", include("api.urls")),
    path("pool/applications/", root_views.pool_application_create, name="pool-application-create"),
]
