"""manage.py import_usage reads any file in batches (issue 10), run as a user runs it: in a
subprocess. Each batch is all or nothing; re-running a file never adds a charge twice."""

import os
import pty
import subprocess
import sys
from decimal import Decimal
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command

from credits.models import UsageCharge
from credits.services import usage_charge_check
from customers.models import Customer, CustomerBalance
from tests.conftest import _postgres_url
from tests.factories import CustomerFactory, ResellerFactory

HEADER = "customer_uin,amount,incurred_at,external_id,product,description\n"


@pytest.fixture
def customers(transactional_db):
    reseller = ResellerFactory(uin=100000000888)
    return [CustomerFactory(reseller=reseller, uin=710000000001 + n, credit=Decimal("1000.00")) for n in range(5)]


def rows(customers, count: int, prefix: str = "s") -> str:
    return "".join(
        f"{customers[n % len(customers)].uin},0.{n % 90 + 10},2026-11-25T10:00:00Z,{prefix}-{n},CVM,hours\n"
        for n in range(count)
    )


def write(tmp_path, body: str, name: str = "usage.csv") -> str:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return str(path)


def used_matches_charges(customers) -> bool:
    return all(
        Customer.objects.get(pk=c.pk).used
        == sum(UsageCharge.objects.filter(customer=c).values_list("amount", flat=True), Decimal("0.00"))
        for c in customers
    )


@pytest.mark.postgres
def test_a_file_of_many_batches_goes_in_and_a_rerun_adds_nothing(manage_py, tmp_path, customers):
    path = write(tmp_path, rows(customers, 2500))
    result = manage_py("import_usage", path, "--batch-size", "300")
    assert result.returncode == 0, result.stderr
    assert "Imported 2500 usage charge(s); 0 already imported." in result.stdout
    # Not a terminal: no progress bar in the output.
    assert "importing" not in result.stdout and "\r" not in result.stdout
    assert UsageCharge.objects.count() == 2500 and used_matches_charges(customers)
    total = sum(CustomerBalance.objects.filter(pk__in=[c.pk for c in customers]).values_list("used", flat=True))
    assert total == sum(Decimal(f"0.{n % 90 + 10}") for n in range(2500))

    result = manage_py("import_usage", path, "--batch-size", "300")
    assert result.returncode == 0, result.stderr
    assert "Imported 0 usage charge(s); 2500 already imported." in result.stdout
    assert UsageCharge.objects.count() == 2500 and used_matches_charges(customers)


@pytest.mark.postgres
def test_a_bad_row_in_a_late_batch_is_named_and_nothing_is_imported(manage_py, tmp_path, customers):
    body = rows(customers, 900) + f"{customers[0].uin},1.001,2026-11-25T10:00:00Z,late,,\n" + rows(customers, 50, "t")
    result = manage_py("import_usage", write(tmp_path, body), "--batch-size", "100")
    assert result.returncode == 1
    assert "line 902: Amounts have at most 2 decimal places" in result.stderr
    assert "1 invalid row(s); nothing imported" in result.stderr and "Traceback" not in result.stderr
    assert not UsageCharge.objects.exists()


@pytest.mark.postgres
def test_a_conflict_found_while_importing_stops_at_its_batch_and_a_rerun_finishes(manage_py, tmp_path, customers):
    # s-3 again on line 14 for a different amount: each batch alone is fine, so only the import
    # itself finds it, in the batch of lines 12-16. The batches before it stay imported.
    first, again = rows(customers, 12), f"{customers[1].uin},9.99,2026-11-25T10:00:00Z,s-3,,\n"
    body = first + "".join(rows(customers, 14, "t").splitlines(True)[12:]) + again + rows(customers, 10, "u")
    path = write(tmp_path, body)
    result = manage_py("import_usage", path, "--batch-size", "5")
    assert result.returncode == 1, result.stdout
    assert "line 16: The external id 's-3' was already used for a different charge" in result.stderr
    assert "Nothing from line 12 on was imported; the 10 charge(s) before it were." in result.stderr
    assert UsageCharge.objects.count() == 10 and used_matches_charges(customers)

    # The re-run's check now finds the conflict before importing anything.
    result = manage_py("import_usage", path, "--batch-size", "5")
    assert result.returncode == 1
    assert "line 16: external id 's-3' was already imported for a different charge." in result.stderr
    assert "1 invalid row(s); nothing imported" in result.stderr
    assert UsageCharge.objects.count() == 10


@pytest.mark.postgres
def test_skip_invalid_leaves_out_a_row_refused_while_importing(manage_py, tmp_path, customers):
    first, again = rows(customers, 12), f"{customers[1].uin},9.99,2026-11-25T10:00:00Z,s-3,,\n"
    path = write(tmp_path, first + again + rows(customers, 10, "u"))
    result = manage_py("import_usage", path, "--batch-size", "5", "--skip-invalid")
    assert result.returncode == 0, result.stderr
    assert "line 14: The external id 's-3' was already used for a different charge" in result.stderr
    assert "Imported 22 usage charge(s); 0 already imported; skipped 1 invalid row(s)." in result.stdout
    assert UsageCharge.objects.count() == 22 and used_matches_charges(customers)
    assert UsageCharge.objects.get(external_id="s-3").amount == Decimal("0.13")


@pytest.mark.postgres
def test_a_terminal_gets_a_progress_bar(tmp_path, customers, transactional_db):
    from django.db import connection

    path = write(tmp_path, rows(customers, 400))
    env = {**os.environ, "PARTNERCENTER_TESTING": "1", "PARTNERCENTER_VAR_DIR": str(tmp_path / "var"),
           "DATABASE_URL": _postgres_url(connection.settings_dict)}
    env.pop("REDIS_URL", None)
    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, "manage.py", "import_usage", path, "--batch-size", "100"],
                               cwd=settings.BASE_DIR, env=env, stdout=follower, stderr=subprocess.PIPE)
    os.close(follower)
    output = b""
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:  # the terminal closes when the command exits
            break
        if not data:
            break
        output += data
    os.close(leader)
    assert process.wait(120) == 0, process.stderr.read()
    process.stderr.close()
    text = output.decode()
    assert "\rimporting 100% [" in text and "400 rows" in text
    assert "Imported 400 usage charge(s)" in text


def test_each_batch_enqueues_one_evaluation_task(tmp_path, db, enqueued):
    reseller = ResellerFactory()
    a, b, c = (CustomerFactory(reseller=reseller, credit=Decimal("100.00")) for _ in range(3))
    body = "".join(f"{x.uin},1.00,2026-11-25T10:00:00Z,e-{n}-{x.uin},,\n" for n in range(2) for x in (a, b, c))
    with enqueued() as sent:
        call_command("import_usage", write(tmp_path, body), "--batch-size", "3", stdout=StringIO())
    ids = sorted([a.pk, b.pk, c.pk])
    assert sent == [("notifications.tasks.customers_evaluate", (ids,)), ("notifications.tasks.customers_evaluate", (ids,))]


@pytest.mark.parametrize("size", ["0", "10001"])
def test_a_batch_size_out_of_range_is_refused(tmp_path, db, size):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="--batch-size must be from 1 to 10000"):
        call_command("import_usage", write(tmp_path, ""), "--batch-size", size)


@pytest.mark.postgres
def test_the_spool_file_is_gone_after_success_and_after_failure(manage_py, tmp_path, customers, monkeypatch):
    # The checked rows wait in a temporary file between the passes: nothing of it may stay behind,
    # whether the import went in, the check refused a row or the import stopped at a conflict.
    spool = tmp_path / "tmp"
    spool.mkdir()
    monkeypatch.setenv("TMPDIR", str(spool))
    result = manage_py("import_usage", write(tmp_path, rows(customers, 700)), "--batch-size", "100")
    assert result.returncode == 0, result.stderr
    assert list(spool.iterdir()) == []

    bad = rows(customers, 300, "b") + f"{customers[0].uin},-1.00,2026-11-25T10:00:00Z,b-bad,,\n"
    result = manage_py("import_usage", write(tmp_path, bad, "bad.csv"), "--batch-size", "100")
    assert result.returncode == 1 and "1 invalid row(s); nothing imported" in result.stderr
    assert list(spool.iterdir()) == [] and not UsageCharge.objects.filter(external_id__startswith="b-").exists()

    again = rows(customers, 12, "c") + f"{customers[1].uin},9.99,2026-11-25T10:00:00Z,c-3,,\n"
    result = manage_py("import_usage", write(tmp_path, again, "again.csv"), "--batch-size", "5")
    assert result.returncode == 1 and "line 14: The external id 'c-3' was already used" in result.stderr
    assert list(spool.iterdir()) == []
    assert UsageCharge.objects.filter(external_id__startswith="c-").count() == 10


def test_the_import_reads_the_spool_not_the_file_again(tmp_path, db, monkeypatch):
    """Each row is parsed and checked once (the check pass); the import pass imports what the check
    pass kept, and the spool is closed (an anonymous file: closing it removes it) when it is done."""
    import tempfile

    from credits.management.commands import import_usage

    reseller = ResellerFactory()
    a, b = (CustomerFactory(reseller=reseller, credit=Decimal("100.00")) for _ in range(2))
    body = "".join(f"{x.uin},0.25,2026-11-25T10:00:00Z,r-{n}-{x.uin},CVM,hours\n" for n in range(12) for x in (a, b))
    checked, spools, make_spool = [], [], tempfile.TemporaryFile

    def counting_check(**fields):
        checked.append(fields["external_id"])
        return usage_charge_check(**fields)

    def recording_spool(*args, **kwargs):
        spools.append(make_spool(*args, **kwargs))
        return spools[-1]

    monkeypatch.setattr(import_usage, "usage_charge_check", counting_check)
    monkeypatch.setattr(import_usage.tempfile, "TemporaryFile", recording_spool)
    out = StringIO()
    call_command("import_usage", write(tmp_path, body), "--batch-size", "5", stdout=out)
    assert "Imported 24 usage charge(s); 0 already imported." in out.getvalue()
    assert len(checked) == 24 and len(set(checked)) == 24
    assert len(spools) == 1 and spools[0].closed
    assert Customer.objects.get(pk=a.pk).used == Customer.objects.get(pk=b.pk).used == Decimal("3.00")

    # A refused row: nothing imported, and the spool closed all the same.
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="1 invalid row"):
        call_command("import_usage", write(tmp_path, body.replace("r-", "q-") + f"{a.uin},x,2026-11-25T10:00:00Z,q-x,,\n"),
                     stdout=StringIO(), stderr=StringIO())
    assert len(spools) == 2 and spools[1].closed
    assert not UsageCharge.objects.filter(external_id__startswith="q-").exists()


def test_skip_invalid_reports_and_counts_a_row_already_imported_differently_once(tmp_path, db):
    reseller = ResellerFactory()
    a = CustomerFactory(reseller=reseller, credit=Decimal("100.00"))
    call_command("import_usage", write(tmp_path, f"{a.uin},1.00,2026-11-25T10:00:00Z,d-1,,\n"), stdout=StringIO())
    body = f"{a.uin},2.00,2026-11-25T10:00:00Z,d-1,,\n{a.uin},3.00,2026-11-25T10:00:00Z,d-2,,\n"
    out, err = StringIO(), StringIO()
    call_command("import_usage", write(tmp_path, body), "--skip-invalid", stdout=out, stderr=err)
    assert err.getvalue() == "line 2: external id 'd-1' was already imported for a different charge.\n"
    assert "Imported 1 usage charge(s); 0 already imported; skipped 1 invalid row(s)." in out.getvalue()
    assert Customer.objects.get(pk=a.pk).used == Decimal("4.00")


def test_the_commands_messages_are_translated(tmp_path, db):
    from django.core.management import CommandError
    from django.utils import translation

    reseller = ResellerFactory()
    a = CustomerFactory(reseller=reseller, credit=Decimal("100.00"))
    with translation.override("zh-hans"):
        out = StringIO()
        call_command("import_usage", write(tmp_path, f"{a.uin},1.00,2026-11-25T10:00:00Z,z-1,,\n"), stdout=out)
        assert "已导入 1 笔用量费用；0 笔此前已导入。" in out.getvalue()
        empty = tmp_path / "empty.csv"
        empty.write_text("")
        with pytest.raises(CommandError, match="文件为空"):
            call_command("import_usage", str(empty))
        err = StringIO()
        with pytest.raises(CommandError, match="1 行无效"):
            call_command("import_usage", write(tmp_path, f"{a.uin},2.00,2026-11-25T10:00:00Z,z-1,CVM,\n"),
                         stdout=StringIO(), stderr=err)
        assert err.getvalue().startswith("第 2 行：外部 ID 'z-1' 已导入为另一笔费用。")
