from django.urls import path

from . import views

app_name = "credits"

urlpatterns = [
    path("records/", views.records, name="records"),
    path("records/export.csv", views.records_export, name="records-export"),
    path("customers/<int:uin>/allocate/", views.allocate, name="allocate"),
    path("customers/<int:uin>/repayment/", views.repayment, name="repayment"),
    path("customers/<int:uin>/records/", views.customer_records, name="customer-records"),
    path("customers/<int:uin>/records/export.csv", views.customer_records_export, name="customer-records-export"),
    path("pool/figures/", views.pool_figures, name="pool-figures"),
]
