"""Burn rate (7-day average daily spend) on the balance row and days to zero derived from it,
stored and indexed so that My Customers sorts and filters 100,000 customers by it (DESIGN §8)."""

import django.db.models.expressions
import django.db.models.functions.math
from decimal import Decimal
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0016_status_event_immutable'),
    ]

    operations = [
        migrations.AddField(
            model_name='customerbalance',
            name='burn_rate',
            field=models.DecimalField(db_default=Decimal('0'), decimal_places=4, default=Decimal('0'), max_digits=18),
        ),
        migrations.AddConstraint(
            model_name='customerbalance',
            constraint=models.CheckConstraint(condition=models.Q(('burn_rate__gte', 0)), name='balance_burn_rate_not_negative'),
        ),
        migrations.AddField(
            model_name='customerbalance',
            name='days_to_zero',
            field=models.GeneratedField(db_persist=True, expression=models.Case(models.When(models.Q(('burn_rate__lte', 0)), then=models.Value(None)), models.When(models.Q(('used__gte', models.F('credit'))), then=models.Value(0)), default=django.db.models.functions.math.Floor(django.db.models.expressions.CombinedExpression(django.db.models.expressions.CombinedExpression(models.F('credit'), '-', models.F('used')), '/', models.F('burn_rate'))), output_field=models.DecimalField(decimal_places=0, max_digits=24)), output_field=models.DecimalField(decimal_places=0, max_digits=24)),
        ),
        migrations.AddIndex(
            model_name='customerbalance',
            index=models.Index(fields=['reseller', 'days_to_zero', 'customer'], name='balance_reseller_days_to_zero'),
        ),
        migrations.AddIndex(
            model_name='customerbalance',
            index=models.Index(fields=['reseller', 'burn_rate', 'customer'], name='balance_reseller_burn_rate'),
        ),
    ]
