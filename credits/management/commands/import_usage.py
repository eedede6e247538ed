"""manage.py import_usage FILE.csv: usage charges from a billing export.

Columns (header row required): customer_uin, amount, incurred_at (ISO 8601 with a zone, from
2000-01-01T00:00:00Z to one day ahead of now), external_id, and optionally product and description. Every row is checked first; a bad row is
reported by its line number and nothing is imported unless --skip-invalid. Re-running the same
file imports nothing twice (the external id is the key)."""

import csv
from collections import defaultdict

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext

from core.errors import DomainError
from credits.models import UsageCharge
from credits.services import usage_charge_check, usage_charges_ingest
from customers.models import Customer, Reseller

REQUIRED = ("customer_uin", "amount", "incurred_at", "external_id")
OPTIONAL = ("product", "description")


class Command(BaseCommand):
    help = "Import usage charges from a CSV file (all or nothing unless --skip-invalid)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--reseller", type=int, help="only accept customers of the reseller with this UIN")
        parser.add_argument("--skip-invalid", action="store_true", help="import the good rows, report the bad ones")

    def handle(self, *args, file, reseller, skip_invalid, **options):
        only = None
        if reseller is not None:
            only = Reseller.objects.filter(uin=reseller).first()
            if only is None:
                raise CommandError(f"No reseller with UIN {reseller}.")
        try:
            with open(file, newline="", encoding="utf-8-sig") as handle:
                reader = csv.reader(handle)
                good, errors = self._check_rows(reader, only)
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror or exc}") from exc
        except UnicodeDecodeError as exc:
            raise CommandError(
                gettext("Cannot read %(file)s: it is not UTF-8 text (%(reason)s).") % {"file": file, "reason": exc.reason}
            ) from exc
        except csv.Error as exc:
            raise CommandError(
                gettext("line %(line)d: %(problem)s; nothing imported.") % {"line": reader.line_num, "problem": exc}
            ) from exc
        for line, message in errors:
            self.stderr.write(f"line {line}: {message}")
        if errors and not skip_invalid:
            raise CommandError(f"{len(errors)} invalid row(s); nothing imported. Fix them or use --skip-invalid.")
        by_reseller = defaultdict(list)
        for reseller_id, fields in good:
            by_reseller[reseller_id].append(fields)
        created = replayed = 0
        with transaction.atomic():
            for reseller_id, rows in by_reseller.items():
                result = usage_charges_ingest(reseller=Reseller.objects.get(pk=reseller_id), rows=rows)
                new, old = result.created, result.replayed
                created, replayed = created + new, replayed + old
        summary = f"Imported {created} usage charge(s); {replayed} already imported"
        if errors:
            summary += f"; skipped {len(errors)} invalid row(s)"
        self.stdout.write(self.style.SUCCESS(summary + "."))

    # Not check(): that name is BaseCommand's system-check method, which `manage.py` calls first.
    def _check_rows(self, reader, only):
        """Every row checked before anything is written: ([(reseller_id, fields)], [(line, error)])."""
        header = next(reader, None)
        if header is None:
            raise CommandError("The file is empty: it needs a header row.")
        columns = [h.strip().lower() for h in header]
        missing = [c for c in REQUIRED if c not in columns]
        if missing:
            raise CommandError(f"line 1: the header lacks column(s) {', '.join(missing)}.")
        unknown = [c for c in columns if c not in REQUIRED + OPTIONAL]
        if unknown:
            raise CommandError(f"line 1: unknown column(s) {', '.join(unknown)}.")
        parsed, errors = [], []
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(columns):
                errors.append((line, f"expected {len(columns)} fields, found {len(row)}."))
                continue
            values = dict(zip(columns, row))
            try:
                fields = usage_charge_check(source=UsageCharge.Source.IMPORT, **values)
            except DomainError as error:
                errors.append((line, error.message))
                continue
            parsed.append((line, fields))
        owners = {}
        uins = sorted({fields["customer_uin"] for _, fields in parsed})
        for start in range(0, len(uins), 5000):
            owners.update(Customer.objects.filter(uin__in=uins[start : start + 5000]).values_list("uin", "reseller_id"))
        seen: dict[tuple[int, str], tuple[int, int, object]] = {}
        good = []
        for line, fields in parsed:
            reseller_id = owners.get(fields["customer_uin"])
            if reseller_id is None or (only is not None and reseller_id != only.pk):
                errors.append((line, f"customer {fields['customer_uin']} does not exist or is not bound to this reseller."))
                continue
            key = (reseller_id, fields["external_id"])
            twin = seen.get(key)
            if twin is not None:
                if (twin[1], twin[2]) != (fields["customer_uin"], fields["amount"]):
                    errors.append((line, f"external id {fields['external_id']!r} is also on line {twin[0]} for a different charge."))
                continue
            seen[key] = (line, fields["customer_uin"], fields["amount"])
            good.append((reseller_id, fields))
        existing = {}
        for reseller_id in {r for r, _ in good}:
            ids = [f["external_id"] for r, f in good if r == reseller_id]
            for start in range(0, len(ids), 5000):
                for ext, uin, amount in UsageCharge.objects.filter(
                    reseller_id=reseller_id, external_id__in=ids[start : start + 5000]
                ).values_list("external_id", "customer__uin", "amount"):
                    existing[(reseller_id, ext)] = (uin, amount)
        checked = []
        for reseller_id, fields in good:
            before = existing.get((reseller_id, fields["external_id"]))
            if before is not None and before != (fields["customer_uin"], fields["amount"]):
                line = seen[(reseller_id, fields["external_id"])][0]
                errors.append((line, f"external id {fields['external_id']!r} was already imported for a different charge."))
                continue
            checked.append((reseller_id, fields))
        errors.sort()
        return checked, errors
