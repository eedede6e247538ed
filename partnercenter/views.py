from django.views import defaults
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def root(request):
    """`/` is the console's Overview for a browser and, for POST, the Tencent-compatible API
    endpoint (the SDK always posts to the root path). The API authenticates by signature, not by
    session, so CSRF does not apply to it; the console never posts to `/`."""
    if request.method == "POST":
        from api.views import endpoint

        return endpoint(request)
    from customers.views import overview

    return overview(request)


def bad_request(request, exception):
    """handler400: a request Django refuses before any view (such as a Host header not in
    ALLOWED_HOSTS) still gets the API's envelope when it was sent to the API."""
    from api.views import bad_request as api_bad_request, is_api_request

    if is_api_request(request):
        return api_bad_request(request)
    return defaults.bad_request(request, exception)
