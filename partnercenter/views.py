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
