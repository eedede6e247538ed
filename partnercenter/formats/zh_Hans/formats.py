"""The console's one number and date format (partnercenter/formats/__init__.py)."""

from partnercenter.formats import *  # noqa: F403
