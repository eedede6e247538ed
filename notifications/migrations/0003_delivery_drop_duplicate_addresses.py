from django.db import migrations

# Before the unique index of 0004 can exist, the duplicates the old rule wrote go: each was the same
# message to the same mailbox or phone a second time. The row kept is the one the new rule keeps
# (the contact, else the member with the lowest id, else the customer). SQL both PostgreSQL and
# SQLite run. Its own migration: on PostgreSQL the deletion leaves deferred foreign-key checks
# pending, and an index cannot be built in the same transaction.
DROP_DUPLICATES = """
DELETE FROM notifications_delivery WHERE id IN (
  SELECT id FROM (
    SELECT id, ROW_NUMBER() OVER (
             PARTITION BY alert_id, channel, LOWER(TRIM(address))
             ORDER BY CASE recipient_kind WHEN 'contact' THEN 0 WHEN 'member' THEN 1 ELSE 2 END, member_id, id
           ) AS nth
      FROM notifications_delivery
     WHERE channel IN ('email', 'sms') AND address <> ''
  ) AS ranked
  WHERE nth > 1
)
"""


class Migration(migrations.Migration):

    dependencies = [
        ('notifications', '0002_alert_open'),
    ]

    operations = [
        migrations.RunSQL(DROP_DUPLICATES, migrations.RunSQL.noop),
    ]
