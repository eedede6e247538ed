"""manage.py import_usage FILE.csv: usage charges from a billing export, of any size.

Columns (header row required): customer_uin, amount, incurred_at (ISO 8601 with a zone, from
2000-01-01T00:00:00Z to one day ahead of now), external_id, and optionally product, description,
region (empty when absent), pay_mode (prePay or postPay; postPay when absent) and instance_id.

The file is read once, a batch of rows at a time, so memory stays the same whatever its size:
first every row is checked (fields, the customer's reseller, an external id used before or twice in
a batch for a different charge) and each bad row is reported by its line number; if there is one,
nothing is imported unless --skip-invalid. The rows the check passed wait in a temporary spool file
(a batch at a time, removed by the system when the command ends, however it ends). Then they go in
from the spool by batches (--batch-size), each batch all or nothing in its own transaction
(credits.services.usage_charges_ingest). A conflict
only the import itself can find (an external id used again further down the file for a different
charge, or by a concurrent writer) stops the import at that batch, naming the line: the batches
before it stay imported. Re-running the file is always safe: charges already imported are
recognised by their external id and counted as "already imported", never added twice."""

import csv
import os
import pickle
import tempfile
import time
from collections import defaultdict

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext

from core.errors import DomainError
from credits.models import UsageCharge
from credits.services import usage_charge_check, usage_charges_ingest, usage_charges_recorded
from customers.models import Customer, Reseller

REQUIRED = ("customer_uin", "amount", "incurred_at", "external_id")
OPTIONAL = ("product", "description", "region", "pay_mode", "instance_id")
BATCH_SIZE = 2000


def _at_line(line: int, problem: str) -> str:
    return gettext("line %(line)d: %(problem)s") % {"line": line, "problem": problem}


def _owners(uins: set[int]) -> dict[int, int]:
    """{uin: reseller id} of the customers among `uins`. On PostgreSQL one array parameter: Django's
    `uin__in` makes and binds a placeholder per UIN, a millisecond for every hundred."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT uin, reseller_id FROM customers_customer WHERE uin = ANY(%s)", [list(uins)])
            return dict(cursor.fetchall())
    return dict(Customer.objects.filter(uin__in=uins).values_list("uin", "reseller_id"))


class Progress:
    """A progress bar on stdout when it is a terminal (never in a pipe or a log file)."""

    def __init__(self, stdout, total: int, label: str):
        self.out, self.total, self.label = stdout, max(total, 1), label
        self.shown = stdout.isatty()
        self.started = self.last = time.monotonic()

    def update(self, done: int, rows: int, *, final: bool = False) -> None:
        now = time.monotonic()
        if not self.shown or (not final and now - self.last < 0.2):
            return
        self.last = now
        share = min(done / self.total, 1.0)
        bar = "#" * int(share * 30)
        rate = rows / max(now - self.started, 1e-6)
        counts = gettext("%(rows)s rows, %(rate)s rows/s") % {"rows": f"{rows:,}", "rate": f"{rate:,.0f}"}
        self.out.write(f"\r{self.label} {share:4.0%} [{bar:<30}] {counts}", ending="\n" if final else "")
        self.out.flush()


class Command(BaseCommand):
    help = "Import usage charges from a CSV file of any size, in batches (see --batch-size)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--reseller", type=int, help="only accept customers of the reseller with this UIN")
        parser.add_argument("--skip-invalid", action="store_true", help="import the good rows, report the bad ones")
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE,
                            help=f"rows per transaction (1 to 10000, default {BATCH_SIZE})")

    def handle(self, *args, file, reseller, skip_invalid, batch_size, **options):
        if not 1 <= batch_size <= 10000:
            raise CommandError(gettext("--batch-size must be from 1 to 10000."))
        only = None
        if reseller is not None:
            only = Reseller.objects.filter(uin=reseller).first()
            if only is None:
                raise CommandError(gettext("No reseller with UIN %(uin)s.") % {"uin": reseller})
        self._resellers = {}  # read once per import, not once per batch
        # The check pass keeps each batch's checked rows in a spool file, the import pass reads
        # them back instead of parsing and checking the file again. An anonymous temporary file:
        # the system removes it when it is closed, whatever ends the command.
        with tempfile.TemporaryFile(prefix="import_usage-") as spool:
            invalid = 0
            for good, errors in self._batches(file, only, batch_size, gettext("checking ")):
                for line, message in errors:
                    self.stderr.write(_at_line(line, message))
                invalid += len(errors)
                if good:
                    pickle.dump(good, spool, pickle.HIGHEST_PROTOCOL)
            if invalid and not skip_invalid:
                raise CommandError(
                    gettext("%(count)d invalid row(s); nothing imported. Fix them or use --skip-invalid.")
                    % {"count": invalid}
                )
            created = replayed = 0
            # The rows the check refused were reported and are not in the spool; what the batches
            # imported so far must not be mistaken for a conflict, so only the import itself judges
            # external ids against what is recorded from here on.
            for good in self._spooled(spool):
                new, old, refused = self._ingest(good, skip_invalid=skip_invalid, imported=created)
                created, replayed, invalid = created + new, replayed + old, invalid + refused
        counts = {"created": created, "replayed": replayed, "invalid": invalid}
        if invalid:
            summary = gettext("Imported %(created)d usage charge(s); %(replayed)d already imported; skipped "
                              "%(invalid)d invalid row(s).") % counts
        else:
            summary = gettext("Imported %(created)d usage charge(s); %(replayed)d already imported.") % counts
        self.stdout.write(self.style.SUCCESS(summary))

    def _spooled(self, spool):
        """The check pass's batches back from the spool: [(line, reseller_id, fields)]."""
        progress = Progress(self.stdout, spool.tell(), gettext("importing"))
        spool.seek(0)
        rows = 0
        while True:
            try:
                good = pickle.load(spool)
            except EOFError:
                break
            rows += len(good)
            yield good
            progress.update(spool.tell(), rows)
        progress.update(spool.tell(), rows, final=True)

    def _ingest(self, good: list, *, skip_invalid: bool, imported: int) -> tuple[int, int, int]:
        """One batch, all or nothing per reseller: (created, already imported, refused rows). A row
        refused only now is reported by line; with --skip-invalid the batch goes in without it."""
        by_reseller = defaultdict(list)
        for line, reseller_id, fields in good:
            by_reseller[reseller_id].append((line, fields))
        created = replayed = refused = 0
        for reseller_id, rows in by_reseller.items():
            reseller = self._resellers.get(reseller_id)
            if reseller is None:
                reseller = self._resellers[reseller_id] = Reseller.objects.get(pk=reseller_id)
            while rows:
                try:
                    result = usage_charges_ingest(reseller=reseller, rows=[fields for _, fields in rows])
                except DomainError as error:
                    line = self._line_of(error, rows)
                    if not skip_invalid:
                        raise CommandError(
                            gettext(
                                "line %(line)d: %(problem)s Nothing from line %(first)d on was imported; the "
                                "%(count)d charge(s) before it were. Fix the row and run the file again: charges "
                                "already imported are recognised by their external id and not added twice."
                            ) % {"line": line, "problem": error.message, "first": rows[0][0],
                                 "count": imported + created}
                        ) from error
                    self.stderr.write(_at_line(line, error.message))
                    rows = [(n, fields) for n, fields in rows if n != line]
                    refused += 1
                    continue
                created, replayed = created + result.created, replayed + result.replayed
                break
        return created, replayed, refused

    @staticmethod
    def _line_of(error: DomainError, rows: list) -> int:
        """The line of the row a refusal names (by its external id or its customer's UIN)."""
        for line, fields in rows:
            if getattr(error, "external_id", None) == fields["external_id"]:
                return line
            if getattr(error, "uin", None) == fields["customer_uin"]:
                return line
        return rows[0][0]

    def _batches(self, file: str, only, batch_size: int, label: str):
        """Read the file a batch at a time: yield ([(line, reseller_id, fields)], [(line, error)])."""
        try:
            with open(file, newline="", encoding="utf-8-sig") as handle:
                progress = Progress(self.stdout, os.fstat(handle.fileno()).st_size, label)
                reader = csv.reader(handle)
                columns = self._header(reader)
                rows = 0
                while True:
                    chunk = []
                    for row in reader:
                        # A blank line (or one of empty cells) is skipped; the first cell (the UIN)
                        # answers for nearly every row without looking at the others.
                        if row and (row[0].strip() or any(cell.strip() for cell in row)):
                            chunk.append((reader.line_num, row))
                            if len(chunk) == batch_size:
                                break
                    if not chunk:
                        break
                    rows += len(chunk)
                    yield self._check(chunk, columns, only)
                    progress.update(handle.buffer.tell(), rows)
                progress.update(handle.buffer.tell(), rows, final=True)
        except OSError as exc:
            raise CommandError(
                gettext("Cannot read %(file)s: %(reason)s") % {"file": file, "reason": exc.strerror or exc}
            ) from exc
        except UnicodeDecodeError as exc:
            raise CommandError(
                gettext("Cannot read %(file)s: it is not UTF-8 text (%(reason)s).") % {"file": file, "reason": exc.reason}
            ) from exc
        except csv.Error as exc:
            raise CommandError(
                gettext("line %(line)d: %(problem)s; nothing imported.") % {"line": reader.line_num, "problem": exc}
            ) from exc

    @staticmethod
    def _header(reader) -> list[str]:
        header = next(reader, None)
        if header is None:
            raise CommandError(gettext("The file is empty: it needs a header row."))
        columns = [h.strip().lower() for h in header]
        missing = [c for c in REQUIRED if c not in columns]
        if missing:
            raise CommandError(gettext("line 1: the header lacks column(s) %(columns)s.") % {"columns": ", ".join(missing)})
        unknown = [c for c in columns if c not in REQUIRED + OPTIONAL]
        if unknown:
            raise CommandError(gettext("line 1: unknown column(s) %(columns)s.") % {"columns": ", ".join(unknown)})
        return columns

    # Not check(): that name is BaseCommand's system-check method, which `manage.py` calls first.
    @staticmethod
    def _check(chunk: list, columns: list[str], only) -> tuple[list, list]:
        """One batch's rows checked without writing: fields, owner, external ids within the batch and
        against what was imported before."""
        parsed, errors = [], []
        now = timezone.now()
        for line, row in chunk:
            if len(row) != len(columns):
                errors.append((line, gettext("expected %(expected)d fields, found %(found)d.")
                               % {"expected": len(columns), "found": len(row)}))
                continue
            try:
                fields = usage_charge_check(source=UsageCharge.Source.IMPORT, now=now, **dict(zip(columns, row)))
            except DomainError as error:
                errors.append((line, error.message))
                continue
            parsed.append((line, fields))
        owners = _owners({fields["customer_uin"] for _, fields in parsed})
        seen: dict[tuple[int, str], tuple[int, int, object]] = {}
        good = []
        for line, fields in parsed:
            reseller_id = owners.get(fields["customer_uin"])
            if reseller_id is None or (only is not None and reseller_id != only.pk):
                errors.append((line, gettext("customer %(uin)s does not exist or is not bound to this reseller.")
                               % {"uin": fields["customer_uin"]}))
                continue
            key = (reseller_id, fields["external_id"])
            twin = seen.get(key)
            if twin is not None:
                if (twin[1], twin[2]) != (fields["customer_uin"], fields["amount"]):
                    errors.append((line, gettext("external id %(external_id)s is also on line %(line)d for a different charge.")
                                   % {"external_id": repr(fields["external_id"]), "line": twin[0]}))
                continue
            seen[key] = (line, fields["customer_uin"], fields["amount"])
            good.append((line, reseller_id, fields))
        existing = {}
        for reseller_id in {r for _, r, _ in good}:
            ids = [f["external_id"] for _, r, f in good if r == reseller_id]
            for ext, before in usage_charges_recorded(reseller_id, ids).items():
                existing[(reseller_id, ext)] = before
        checked = []
        for line, reseller_id, fields in good:
            before = existing.get((reseller_id, fields["external_id"]))
            if before is not None and before != (fields["customer_uin"], fields["amount"]):
                errors.append((line, gettext("external id %(external_id)s was already imported for a different charge.")
                               % {"external_id": repr(fields["external_id"])}))
                continue
            checked.append((line, reseller_id, fields))
        errors.sort()
        return checked, errors

