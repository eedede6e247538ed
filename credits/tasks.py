from celery import shared_task
from django.conf import settings


@shared_task(ignore_result=True)
def usage_simulate(reseller_uin: int | None = None, charges: int = 5) -> int:
    """The demo usage simulator (beat runs it every minute when DEMO_USAGE_SIMULATOR is on)."""
    from customers.models import Reseller

    from .services import usage_simulate as simulate

    if not settings.DEMO_USAGE_SIMULATOR:
        return 0
    reseller = Reseller.objects.filter(uin=reseller_uin or DEMO_RESELLER_UIN).first()
    if reseller is None:
        return 0
    return len(simulate(reseller=reseller, charges=charges))


@shared_task(ignore_result=True)
def usage_partitions_ensure() -> list[str]:
    """The usage charges' monthly partitions, this month and the next ones (beat: daily)."""
    from .services import usage_partitions_ensure as ensure

    return ensure()



@shared_task(ignore_result=True)
def burn_rates_refresh() -> int:
    """Customers' 7-day burn rates after a day rolls over in their reseller's zone (beat: hourly,
    since zones roll over at different hours)."""
    from .services import burn_rates_refresh as refresh

    return refresh()


DEMO_RESELLER_UIN = 100000000001
