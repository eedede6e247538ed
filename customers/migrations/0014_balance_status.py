"""The stored account status (customers.models.account_status_expression) and its indexes."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0013_account_status'),
    ]

    operations = [
        migrations.AddField(
            model_name='customerbalance',
            name='status',
            field=models.GeneratedField(db_persist=True, expression=models.Case(models.When(data_deleted_at__isnull=False, then=models.Value('deleted')), models.When(suspended_at__isnull=False, then=models.Value('suspended')), models.When(frozen=True, then=models.Value('frozen')), models.When(credit__lt=models.F('used'), then=models.Value('overdue')), default=models.Value('normal'), output_field=models.CharField(max_length=16)), output_field=models.CharField(choices=[('normal', 'Normal'), ('overdue', 'Overdue'), ('frozen', 'Frozen'), ('suspended', 'Suspended'), ('deleted', 'Data deleted')], max_length=16)),
        ),
        migrations.AddIndex(
            model_name='statusevent',
            index=models.Index(fields=['customer', '-created_at', '-id'], name='status_event_customer_time'),
        ),
        migrations.AddIndex(
            model_name='customerbalance',
            index=models.Index(fields=['reseller', 'status', 'customer'], name='balance_reseller_status'),
        ),
    ]
