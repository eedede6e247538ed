"""The balance (credit, used, available, usage band) moves from the customer row to its own table,
one row per customer, so that a payment no longer rewrites the customer's profile and its 13
indexes (three of them trigram GIN). Reversible: backwards, the columns come back with the values."""

import django.db.models.deletion
import django.db.models.expressions
from decimal import Decimal
from django.db import migrations, models


COPY_FORWARDS = """
INSERT INTO customers_customerbalance (customer_id, reseller_id, credit, used)
SELECT id, reseller_id, credit, used FROM customers_customer
"""
COPY_BACKWARDS = """
UPDATE customers_customer SET
    credit = (SELECT b.credit FROM customers_customerbalance b WHERE b.customer_id = customers_customer.id),
    used = (SELECT b.used FROM customers_customerbalance b WHERE b.customer_id = customers_customer.id)
"""


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0008_customer_reseller_frozen'),
    ]

    operations = [
        migrations.CreateModel(
            name='CustomerBalance',
            fields=[
                ('customer', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='balance', serialize=False, to='customers.customer')),
                ('credit', models.DecimalField(decimal_places=2, default=Decimal('0.00'), max_digits=16)),
                ('used', models.DecimalField(decimal_places=2, default=Decimal('0.00'), max_digits=16)),
                ('reseller', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='customers.reseller')),
                ('available', models.GeneratedField(db_persist=True, expression=django.db.models.expressions.CombinedExpression(models.F('credit'), '-', models.F('used')), output_field=models.DecimalField(decimal_places=2, max_digits=17))),
                ('usage_band', models.GeneratedField(db_persist=True, expression=models.Case(models.When(models.Q(('used__gt', 0), ('used__gte', models.F('credit'))), then=models.Value(100)), models.When(models.Q(('credit__gt', 0), ('used__gte', django.db.models.expressions.CombinedExpression(models.F('credit'), '*', models.Value(Decimal('0.90'))))), then=models.Value(90)), models.When(models.Q(('credit__gt', 0), ('used__gte', django.db.models.expressions.CombinedExpression(models.F('credit'), '*', models.Value(Decimal('0.75'))))), then=models.Value(75)), default=models.Value(0), output_field=models.SmallIntegerField()), output_field=models.SmallIntegerField())),
            ],
            options={
                'constraints': [
                    models.CheckConstraint(condition=models.Q(('credit__gte', 0)), name='balance_credit_not_negative'),
                    models.CheckConstraint(condition=models.Q(('used__gte', 0)), name='balance_used_not_negative'),
                ],
            },
        ),
        # Every customer's balance, before its columns go (and back, when reversed).
        migrations.RunSQL(sql=COPY_FORWARDS, reverse_sql=COPY_BACKWARDS),
        migrations.AddIndex(
            model_name='customerbalance',
            index=models.Index(fields=['reseller', 'available', 'customer'], name='balance_reseller_available'),
        ),
        migrations.AddIndex(
            model_name='customerbalance',
            index=models.Index(fields=['reseller', 'usage_band'], name='balance_reseller_band'),
        ),
        migrations.AddIndex(
            model_name='customerbalance',
            index=models.Index(fields=['reseller', 'credit', 'customer'], name='balance_reseller_credit'),
        ),
        migrations.AddIndex(
            model_name='customerbalance',
            index=models.Index(fields=['reseller', 'used', 'customer'], name='balance_reseller_used'),
        ),
        migrations.AddIndex(
            model_name='customerbalance',
            index=models.Index(condition=models.Q(('usage_band__gt', 0)), fields=['reseller', 'customer'], name='balance_alertable'),
        ),
        migrations.RemoveConstraint(
            model_name='customer',
            name='customer_credit_not_negative',
        ),
        migrations.RemoveConstraint(
            model_name='customer',
            name='customer_used_not_negative',
        ),
        migrations.RemoveIndex(
            model_name='customer',
            name='customer_reseller_available',
        ),
        migrations.RemoveIndex(
            model_name='customer',
            name='customer_reseller_band',
        ),
        migrations.RemoveIndex(
            model_name='customer',
            name='customer_reseller_credit',
        ),
        migrations.RemoveIndex(
            model_name='customer',
            name='customer_reseller_used',
        ),
        migrations.RemoveIndex(
            model_name='customer',
            name='customer_alertable',
        ),
        migrations.RemoveField(
            model_name='customer',
            name='available',
        ),
        migrations.RemoveField(
            model_name='customer',
            name='usage_band',
        ),
        migrations.RemoveField(
            model_name='customer',
            name='credit',
        ),
        migrations.RemoveField(
            model_name='customer',
            name='used',
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(condition=models.Q(('custom_warning_percent__isnull', False)), fields=['reseller', 'id'], name='customer_custom_warning'),
        ),
    ]
