"""Number and date formats (settings.FORMAT_MODULE_PATH): one way in every language (DESIGN §9).

Django's own zh_Hans formats write dates as 2026年11月30日, group numbers by four with no separator
and take 2026/11/30 first in date fields (which an <input type="date"> cannot show). The console
writes dates YYYY-MM-DD and numbers with thousands separators in English and in Chinese alike; the
money and time filters (core/money.py, console/templatetags) follow the same rule."""

DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
YEAR_MONTH_FORMAT = "Y-m"
MONTH_DAY_FORMAT = "m-d"
TIME_FORMAT = "H:i"
FIRST_DAY_OF_WEEK = 1
DATE_INPUT_FORMATS = ["%Y-%m-%d"]
DATETIME_INPUT_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"]
