"""Credits' console pages: the console page fixtures of tests/pages.py."""

from tests.pages import (  # noqa: F401 (pytest finds fixtures by their names in this module)
    customer,
    other_customer,
    other_reseller,
    owner_client,
    reseller,
    stranger_client,
    viewer_client,
)
