import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('notifications', '0003_delivery_drop_duplicate_addresses'),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='delivery',
            constraint=models.UniqueConstraint(models.F('alert'), models.F('channel'), django.db.models.functions.text.Lower(django.db.models.functions.text.Trim('address')), condition=models.Q(('channel__in', ['email', 'sms']), models.Q(('address', ''), _negated=True)), name='delivery_once_per_address'),
        ),
    ]
