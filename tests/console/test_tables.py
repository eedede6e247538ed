"""console.tables.ConsoleTable: each table gets its own copy of every column (one level deep), so
what one table changes on its columns never reaches the class or another table."""

import copy

import pytest

from console.tables import ConsoleTable
from credits.tables import AllocationRecordTable
from customers.tables import CustomerTable
from notifications.tables import MessageTable


@pytest.mark.parametrize("table_class", [CustomerTable, AllocationRecordTable, MessageTable])
def test_each_table_has_its_own_columns(table_class):
    assert issubclass(table_class, ConsoleTable)
    first, second = table_class([]), table_class([])
    name = next(iter(table_class.base_columns))
    mine, theirs, declared = first.columns[name].column, second.columns[name].column, table_class.base_columns[name]
    assert mine is not theirs and mine is not declared
    assert [column.name for column in first.columns] == list(table_class.base_columns)
    first.columns.hide(name)
    assert not first.columns[name].visible and second.columns[name].visible and declared.visible
    mine.current_value = "written"
    assert getattr(theirs, "current_value", None) != "written" and getattr(declared, "current_value", None) != "written"
    # The rest is shared as declared: the same values a deep copy would give.
    deep = copy.deepcopy(dict(table_class.base_columns))[name]
    assert (mine.attrs, mine.verbose_name, mine.order_by, mine.orderable) == (deep.attrs, deep.verbose_name, deep.order_by, deep.orderable)
