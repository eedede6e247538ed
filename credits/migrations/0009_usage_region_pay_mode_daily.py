"""Usage charges gain region, pay mode and instance id (old charges: no region, pay-as-you-go);
daily rollups per (customer, day in the reseller's zone, product, region, pay mode), filled here
from the charges already recorded and kept by usage_charges_ingest from now on."""

import django.db.models.deletion
from django.db import migrations, models


BACKFILL = """
INSERT INTO credits_usagedaily (reseller_id, customer_id, day, product, region, pay_mode, amount, charges)
SELECT u.reseller_id, u.customer_id, (u.incurred_at AT TIME ZONE r.time_zone)::date, u.product, u.region,
       u.pay_mode, sum(u.amount), count(*)
FROM credits_usagecharge u JOIN customers_reseller r ON r.id = u.reseller_id
GROUP BY 1, 2, 3, 4, 5, 6
"""


def backfill(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKFILL)
        return
    from zoneinfo import ZoneInfo

    UsageCharge = apps.get_model("credits", "UsageCharge")
    UsageDaily = apps.get_model("credits", "UsageDaily")
    sums = {}
    for charge in UsageCharge.objects.select_related("reseller").iterator():
        try:
            zone = ZoneInfo(charge.reseller.time_zone)
        except Exception:
            zone = ZoneInfo("Asia/Shanghai")
        key = (charge.reseller_id, charge.customer_id, charge.incurred_at.astimezone(zone).date(),
               charge.product, charge.region, charge.pay_mode)
        amount, count = sums.get(key, (0, 0))
        sums[key] = (amount + charge.amount, count + 1)
    UsageDaily.objects.bulk_create(
        [UsageDaily(reseller_id=k[0], customer_id=k[1], day=k[2], product=k[3], region=k[4], pay_mode=k[5],
                    amount=v[0], charges=v[1]) for k, v in sums.items()], batch_size=500)


class Migration(migrations.Migration):

    dependencies = [
        ('credits', '0008_allocation_reseller_repossess'),
        ('customers', '0017_balance_burn_rate_days_to_zero'),
    ]

    operations = [
        migrations.AddField(
            model_name='usagecharge',
            name='instance_id',
            field=models.CharField(blank=True, db_default='', default='', max_length=128),
        ),
        migrations.AddField(
            model_name='usagecharge',
            name='pay_mode',
            field=models.CharField(choices=[('prePay', 'Prepaid (yearly/monthly)'), ('postPay', 'Pay-as-you-go')], db_default='postPay', default='postPay', max_length=8),
        ),
        migrations.AddField(
            model_name='usagecharge',
            name='region',
            field=models.CharField(blank=True, db_default='', default='', max_length=64),
        ),
        migrations.CreateModel(
            name='UsageDaily',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('product', models.CharField(blank=True, max_length=100)),
                ('region', models.CharField(blank=True, max_length=64)),
                ('pay_mode', models.CharField(choices=[('prePay', 'Prepaid (yearly/monthly)'), ('postPay', 'Pay-as-you-go')], max_length=8)),
                ('amount', models.DecimalField(decimal_places=2, max_digits=16)),
                ('charges', models.PositiveIntegerField()),
                ('customer', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='customers.customer')),
                ('reseller', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='customers.reseller')),
            ],
            options={
                'indexes': [models.Index(fields=['reseller', 'day'], name='usage_daily_reseller_day')],
                'constraints': [models.UniqueConstraint(fields=('customer', 'day', 'product', 'region', 'pay_mode'), name='usage_daily_key'), models.CheckConstraint(condition=models.Q(('amount__gt', 0)), name='usage_daily_amount_positive')],
            },
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
