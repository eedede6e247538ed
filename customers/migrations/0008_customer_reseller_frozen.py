from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0007_reseller_uin_and_name_checks"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(
                condition=models.Q(("account_status", "frozen")),
                fields=["reseller", "-bound_at", "-id"],
                name="customer_reseller_frozen",
            ),
        ),
    ]
