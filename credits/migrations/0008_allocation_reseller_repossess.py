from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("credits", "0007_usage_charge_partitions"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="allocationrecord",
            index=models.Index(
                condition=models.Q(("amount__lt", 0)),
                fields=["reseller", "-created_at", "-id"],
                name="allocation_reseller_repossess",
            ),
        ),
    ]
