from tests.pages import reseller  # noqa: F401 (pytest finds fixtures by their names in this module)
