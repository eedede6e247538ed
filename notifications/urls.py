from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("messages/", views.message_list, name="messages"),
    path("messages/<int:message_id>/read/", views.message_read, name="message_read"),
    path("messages/read/", views.messages_read, name="messages_read"),
    path("messages/read-all/", views.messages_read_all, name="messages_read_all"),
    path("messages/bell/", views.bell, name="bell"),
    path("settings/", views.alert_settings, name="settings"),
    path("customers/<int:uin>/alerts/", views.customer_alerts, name="customer_alerts"),
    path("customers/<int:uin>/warning/", views.custom_warning, name="custom_warning"),
    path("customers/<int:uin>/channels/", views.customer_channels, name="customer_channels"),
    path("customers/<int:uin>/freeze/", views.customer_freeze, name="customer_freeze"),
]
