from django.urls import path

from . import views

app_name = "customers"

urlpatterns = [
    path("", views.customer_list, name="list"),
    path("export.csv", views.customer_export, name="export"),
    path("<int:uin>/row/", views.customer_row, name="row"),
    path("<int:uin>/remark/", views.customer_remark, name="remark"),
    path("<int:uin>/status/", views.customer_status_history, name="status_history"),
    path("invitations/", views.invitation_list, name="invitations"),
    path("invitations/new/", views.invitation_create, name="invite"),
    path("invitations/<int:invitation_id>/resend/", views.invitation_resend, name="invitation-resend"),
    path("invitations/<int:invitation_id>/revoke/", views.invitation_revoke, name="invitation-revoke"),
    path("pending/", views.pending_list, name="pending"),
    path("pending/<int:uin>/approve/", views.application_approve, name="approve"),
    path("pending/<int:uin>/reject/", views.application_reject, name="reject"),
]
