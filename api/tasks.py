from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def signed_requests_expire() -> int:
    return services.signed_requests_expire()
