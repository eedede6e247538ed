from django.conf import settings
from django.utils import translation
from django.utils.cache import add_never_cache_headers

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
)


class ContentSecurityPolicyMiddleware:
    """Every response forbids inline script: all behaviour lives in vendored static files."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = getattr(settings, "CONTENT_SECURITY_POLICY", CONTENT_SECURITY_POLICY)

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        return response


class NoStoreMiddleware:
    """Nothing Django answers may be kept by a browser or a shared cache: console pages, fragments,
    CSV exports, the admin and the API all carry a reseller's data, and a back button or a proxy must
    not show it to the next person. A view that sets its own Cache-Control keeps it. Static files
    never get here: WhiteNoise, above this middleware, answers them with their own caching."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response


class MemberLanguageMiddleware:
    """A signed-in member reads the console in the language stored on it (Member.language, set by
    the user menu's language switch), whatever the cookie or the browser says; a member who never
    picked one keeps LocaleMiddleware's choice. A signed-in customer reads its portal in its
    Customer.language (its portal's language switch, or the reseller's "language of its alerts"),
    the language its e-mails and SMS are written in. Placed after AuthenticationMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        language = ""
        if user is not None and user.is_authenticated:
            # MemberBackend read the membership and the customer login with the user: no query here.
            language = getattr(getattr(user, "member", None), "language", "") or ""
            if not language:
                login = getattr(user, "customer_login", None)
                language = getattr(getattr(login, "customer", None), "language", "") or ""
        if language and language != request.LANGUAGE_CODE:
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)
