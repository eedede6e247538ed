from django.urls import path

from . import views

app_name = "customers"

urlpatterns = [
    path("", views.customer_list, name="list"),
    path("export.csv", views.customer_export, name="export"),
    path("<int:uin>/row/", views.customer_row, name="row"),
    path("<int:uin>/remark/", views.customer_remark, name="remark"),
    path("<int:uin>/status/", views.customer_status_history, name="status_history"),
]
