"""Account status (DESIGN §4): the frozen flag moves from the customer to its balance, with the
suspension columns, the non-stop privilege, the reseller's allowlist flag and the status events."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def _frozen_to_balance(apps, schema_editor):
    # The customer's frozen flag moves to its balance row (the balance's lock covers the status).
    balance = apps.get_model("customers", "CustomerBalance")
    balance.objects.filter(customer__account_status="frozen").update(frozen=True)


def _frozen_from_balance(apps, schema_editor):
    customer = apps.get_model("customers", "Customer")
    customer.objects.filter(balance__frozen=True).update(account_status="frozen")


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0012_language'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='StatusEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('kind', models.CharField(choices=[('overdue', 'Overdue'), ('resumed', 'Resumed'), ('frozen', 'Frozen'), ('unfrozen', 'Unfrozen'), ('suspended', 'Suspended'), ('deletion_7d', 'Data deletion in 7 days'), ('deletion_1d', 'Data deletion in 1 day'), ('deleted', 'Data deleted')], max_length=16)),
                ('from_status', models.CharField(choices=[('normal', 'Normal'), ('overdue', 'Overdue'), ('frozen', 'Frozen'), ('suspended', 'Suspended'), ('deleted', 'Data deleted')], max_length=16)),
                ('to_status', models.CharField(choices=[('normal', 'Normal'), ('overdue', 'Overdue'), ('frozen', 'Frozen'), ('suspended', 'Suspended'), ('deleted', 'Data deleted')], max_length=16)),
                ('cause', models.CharField(choices=[('usage', 'Usage charge'), ('allocation', 'Credit allocation'), ('repayment', 'Repayment'), ('console', 'Console'), ('api', 'API'), ('deadline', 'Data retention deadline')], max_length=16)),
                ('actor_name', models.CharField(blank=True, max_length=150)),
                ('available', models.DecimalField(decimal_places=2, max_digits=17)),
            ],
            options={
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.AddField(
            model_name='customer',
            name='non_stop',
            field=models.BooleanField(db_default=False, default=False, help_text='Pay-as-you-go services keep running when the customer is frozen or overdue.', verbose_name='non-stop privilege'),
        ),
        migrations.AddField(
            model_name='customerbalance',
            name='data_deleted_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='customerbalance',
            name='deletion_notice',
            field=models.PositiveSmallIntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name='customerbalance',
            name='frozen',
            field=models.BooleanField(db_default=False, default=False),
        ),
        migrations.AddField(
            model_name='customerbalance',
            name='suspended_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='reseller',
            name='suspension_allowlisted',
            field=models.BooleanField(db_default=False, default=False, help_text='Frozen or overdue customers of this reseller are suspended (unless non-stop).', verbose_name='on the suspension-rule allowlist'),
        ),
        migrations.AddIndex(
            model_name='customerbalance',
            index=models.Index(condition=models.Q(('suspended_at__isnull', False)), fields=['suspended_at'], name='balance_suspended'),
        ),
        migrations.AddConstraint(
            model_name='customerbalance',
            constraint=models.CheckConstraint(condition=models.Q(('data_deleted_at__isnull', True), ('suspended_at__isnull', False), _connector='OR'), name='balance_deleted_was_suspended'),
        ),
        migrations.AddConstraint(
            model_name='customerbalance',
            constraint=models.CheckConstraint(condition=models.Q(('suspended_at__isnull', False), ('deletion_notice', 0), _connector='OR'), name='balance_notice_needs_suspension'),
        ),
        migrations.AddField(
            model_name='statusevent',
            name='actor',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='statusevent',
            name='customer',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='status_events', to='customers.customer'),
        ),
        migrations.AddField(
            model_name='statusevent',
            name='reseller',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='customers.reseller'),
        ),
        migrations.RunPython(_frozen_to_balance, _frozen_from_balance),
        migrations.RemoveIndex(
            model_name='customer',
            name='customer_reseller_frozen',
        ),
        migrations.RemoveIndex(
            model_name='customer',
            name='customer_reseller_status',
        ),
        migrations.RemoveField(
            model_name='customer',
            name='account_status',
        ),
    ]
