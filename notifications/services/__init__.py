"""Usage alerts (DESIGN §3): every write of notifications, one module per job.

- evaluation: thresholds evaluated per customer and by the periodic sweep, re-arming, and the one
  way to enqueue a customer's evaluation after a write (customer_evaluation_enqueue; a usage batch's
  customers as one task: customers_evaluation_enqueue);
- outbox: the deliveries an alert gets, and sending them (claim, transport, retry, stuck sweep);
- inbox: the Message Center's writes (marking messages read);
- notices: the reseller's notice of a newly bound customer;
- alert_settings: who is alerted by which channel, and the custom balance warning.

Other apps and the tasks import from here; the modules are the place to read and change them."""

from .alert_settings import (
    custom_warning_set,
    customer_alert_channels_update,
    customer_notification_settings_update,
    member_alert_channels_update,
    reseller_alert_settings_update,
)
from .evaluation import (
    Evaluation,
    SweepResult,
    alerts_sweep,
    customer_alerts_evaluate,
    customer_evaluation_enqueue,
    customers_alerts_evaluate,
    customers_evaluation_enqueue,
    reseller_day,
)
from .inbox import (
    customer_message_mark_read,
    customer_messages_mark_all_read,
    message_mark_read,
    messages_mark_all_read,
    messages_mark_read,
)
from .notices import customer_bound_notice
from .outbox import (
    ENQUEUE_CHUNK,
    PENDING_GRACE,
    DeliveryRetry,
    deliveries_attempt,
    deliveries_stuck,
    delivery_attempt,
    delivery_retry,
    retry_countdown,
)

__all__ = [
    "ENQUEUE_CHUNK",
    "PENDING_GRACE",
    "DeliveryRetry",
    "Evaluation",
    "SweepResult",
    "alerts_sweep",
    "custom_warning_set",
    "customer_alert_channels_update",
    "customer_bound_notice",
    "customer_message_mark_read",
    "customer_notification_settings_update",
    "customer_messages_mark_all_read",
    "customer_alerts_evaluate",
    "customer_evaluation_enqueue",
    "customers_alerts_evaluate",
    "customers_evaluation_enqueue",
    "deliveries_attempt",
    "deliveries_stuck",
    "delivery_attempt",
    "delivery_retry",
    "member_alert_channels_update",
    "message_mark_read",
    "messages_mark_all_read",
    "messages_mark_read",
    "reseller_alert_settings_update",
    "reseller_day",
    "retry_countdown",
]
