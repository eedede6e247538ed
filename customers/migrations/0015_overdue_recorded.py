"""overdue_recorded: what the last overdue / resumed event said, and the index of the balances that
disagree with it (the sweep's)."""

from django.db import migrations, models


def _as_now(apps, schema_editor):
    # Customers already overdue are recorded as such: the first sweep sends no notices about a state
    # that began before account status existed.
    balance = apps.get_model("customers", "CustomerBalance")
    balance.objects.filter(credit__lt=models.F("used")).update(overdue_recorded=True)


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0014_balance_status'),
    ]

    operations = [
        migrations.AddField(
            model_name='customerbalance',
            name='overdue_recorded',
            field=models.BooleanField(db_default=False, default=False),
        ),
        migrations.RunPython(_as_now, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='statusevent',
            name='cause',
            field=models.CharField(choices=[('usage', 'Usage charge'), ('allocation', 'Credit allocation'), ('repayment', 'Repayment'), ('console', 'Console'), ('sweep', 'Status sweep'), ('api', 'API'), ('deadline', 'Data retention deadline')], max_length=16),
        ),
        migrations.AddIndex(
            model_name='customerbalance',
            index=models.Index(condition=models.Q(models.Q(('credit__lt', models.F('used')), ('overdue_recorded', False)), models.Q(('credit__gte', models.F('used')), ('overdue_recorded', True)), _connector='OR'), fields=['customer'], name='balance_overdue_drift'),
        ),
    ]
