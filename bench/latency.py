"""Alert latency under a sustained usage load (issue 10): from a usage charge's commit to the alert
e-mail accepted by a local SMTP server, the SMS handed to its backend and the Message Center row.

Everything real: gunicorn serving the API, signed ReportCustomerUsage batches (bench.api.LeanClient)
sent on a fixed schedule by BENCH_LATENCY_CLIENTS processes, one Celery worker process (the
Procfile's worker command with --concurrency=1) against Redis, an SMTP server in this process
(aiosmtpd) that notes when it accepted each message, and the SMS file backend (each file's
modification time is when the SMS was handed to it).

The benchmark reseller's customers have 1,000.00 credit. 5 % of them are prepared just under a
threshold (75, 90 or 100 %, in turn) and get exactly one charge during the run, which takes them
across; every other charge goes to customers at 10 % and is too small to cross anything. Each
crossing alerts the reseller's contact (e-mail, SMS), its admin member (e-mail, Message Center) and
the customer (e-mail, SMS, Message Center): 7 deliveries, each expected exactly once.

A charge commits inside its API call, before the answer: its latency is bounded from above by the
time the charge row was written (`created_at`, before the commit) and from below by the time the
client read the answer (after it). The target is judged on the upper bound.

Before the load, a few lone crossings one second apart measure the same path idle: the baseline.

BENCH_LATENCY_SECONDS (60), BENCH_LATENCY_RATE (1000 charges/s), BENCH_LATENCY_BATCH (1000 charges
a request), BENCH_LATENCY_CUSTOMERS (20,000), BENCH_LATENCY_CLIENTS (4) shorten or reshape a run.
Batches that could not start within the run's seconds are not sent (the achieved rate says so).
"""

import json
import multiprocessing
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from bench.common import line, percentile

SECONDS = float(os.environ.get("BENCH_LATENCY_SECONDS", "60"))
RATE = float(os.environ.get("BENCH_LATENCY_RATE", "1000"))
BATCH = int(os.environ.get("BENCH_LATENCY_BATCH", "1000"))
CUSTOMERS = int(os.environ.get("BENCH_LATENCY_CUSTOMERS", "20000"))
CLIENTS = int(os.environ.get("BENCH_LATENCY_CLIENTS", "4"))
CROSSING_SHARE = 0.05
PROBES = 5
TARGET_P95_S = 5.0
# How long to wait, after the last charge, for the deliveries still on their way.
DRAIN_SECONDS = 180
LATENCY_UIN = 900000600000  # its customers get UINs 900000600000000 + i, clear of the other sections
CREDIT = Decimal("1000.00")
BASE_USED = Decimal("100.00")
CROSSING_CHARGE = Decimal("1.00")
THRESHOLDS = (75, 90, 100)
# Outside seed_scale's customer phones (+6580000000 + i): one phone, one SMS per alert.
PHONE = "+6570006000"
MEMBER_EMAIL = "admin-latency@scale.example"
ROOT = Path(__file__).resolve().parent.parent
DELIVERY_HEADER = re.compile(rb"^X-Partner-Center-Delivery:\s*(\d+)", re.MULTILINE | re.IGNORECASE)


def run() -> None:
    from django.db import connection

    from api.models import ApiKey
    from api.services import api_key_create
    from bench.alerts import purge_queue
    from customers.models import Member

    reseller = ensure_dataset()
    member = Member.objects.select_related("user").get(reseller=reseller, user__username="bench-latency")
    customers = list(reseller.customers.order_by("id").values_list("id", "uin"))
    rng = random.Random(10)
    probes, crossing, plan = make_plan(customers, rng)
    reset(reseller.pk, probes + crossing)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE customers_customer, customers_customerbalance, credits_usagecharge, notifications_alert,"
                       " notifications_delivery, notifications_message")
    print(f"  {len(customers):,} customers, {len(crossing):,} of them crossing a threshold (75/90/100 % in turn); "
          f"{len(plan):,} batches of {BATCH:,} planned at {RATE:,.0f} charges/s for {SECONDS:.0f} s; "
          f"{CLIENTS} client processes; 7 deliveries per alert", flush=True)

    key, secret_key = api_key_create(user=member.user, description="latency benchmark (deleted after the run)")
    sink = Sink()
    sms_dir = Path(tempfile.mkdtemp(prefix="bench-latency-sms-"))
    purge_queue()
    connection.close()
    worker = server = None
    try:
        sink.start()
        worker = Worker(smtp_port=sink.port, sms_dir=sms_dir)
        worker.start()
        from bench.api import Server, _client

        # A batch of 1,000 on a slow ingestion path may take longer than gunicorn's default 30 s.
        os.environ["GUNICORN_CMD_ARGS"] = "--timeout 600"
        server = Server()
        server.__enter__()
        del os.environ["GUNICORN_CMD_ARGS"]
        server.wait_ready(_client(server.endpoint, key.secret_id, secret_key))
        worker.wait_ready()

        # The baseline: lone crossings, one a second, nothing else going on.
        probe_batches = [[charge] for charge in probe_charges(probes)]
        before = channel_counts(reseller.pk, sink, sms_dir)
        probe_sent = send_batches(server.endpoint, key.secret_id, secret_key, probe_batches, interval=1.0,
                                  seconds=PROBES * 2.0, clients=1)
        probe = Outcome(reseller.pk, probe_sent, probe_batches, sink, sms_dir, dict(probes), others=dict(crossing))
        probe.wait(before)

        before = channel_counts(reseller.pk, sink, sms_dir)
        sent = send_batches(server.endpoint, key.secret_id, secret_key, plan, interval=BATCH / RATE,
                            seconds=SECONDS, clients=CLIENTS)
        load = Outcome(reseller.pk, sent, plan, sink, sms_dir, dict(crossing), others=dict(probes))
        load.wait(before)
    finally:
        if server is not None:
            server.__exit__(None, None, None)
        if worker is not None:
            worker.stop()
        sink.stop()
        ApiKey.objects.filter(pk=key.pk).delete()

    report("idle baseline (lone crossings, 1 a second)", probe, show_rate=False)
    report(f"under load ({RATE:,.0f} charges/s planned for {SECONDS:.0f} s)", load, show_rate=True)
    base = load_p95 = None
    if probe.latencies() and load.latencies():
        base, load_p95 = percentile(probe.latencies(), 95), percentile(load.latencies(), 95)
        line("  p95 under load / idle p95", f"{load_p95 / base:8.1f}x")
    if worker.exit_note:
        line("  worker", worker.exit_note)
    shutil.rmtree(sms_dir, ignore_errors=True)
    purge_queue()
    reset(reseller.pk, probes + crossing)


def ensure_dataset():
    """CUSTOMERS customers with 1,000.00 credit each through one allocation record per customer
    (the ledger stays conserved), a contact e-mail and phone, and an admin member taking e-mail and
    the Message Center. Loaded once per database: BENCH_LATENCY_CUSTOMERS counts when it is."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, transaction

    from credits.models import AllocationRecord
    from customers.models import Member, Reseller

    t0 = time.perf_counter()
    reseller = Reseller.objects.filter(uin=LATENCY_UIN).first()
    if reseller is None:
        call_command("seed_scale", customers=CUSTOMERS, records=0, uin=LATENCY_UIN, username="bench-latency")
        reseller = Reseller.objects.get(uin=LATENCY_UIN)
    Reseller.objects.filter(pk=reseller.pk).update(contact_phone=PHONE, contact_alert_email=True, contact_alert_sms=True,
                                                   customer_alerts_enabled=True)
    member = Member.objects.get(reseller=reseller, user__username="bench-latency")
    get_user_model().objects.filter(pk=member.user_id).update(email=MEMBER_EMAIL)
    Member.objects.filter(pk=member.pk).update(alert_email=True, alert_inbox=True, alert_sms=False)
    reseller.refresh_from_db()
    if AllocationRecord.objects.filter(reseller=reseller).exists():
        return reseller
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE customers_customerbalance SET credit = %s, used = %s WHERE reseller_id = %s",
                       [CREDIT, BASE_USED, reseller.pk])
        cursor.execute("SELECT total, count(*) FROM credits_creditpool p JOIN customers_customer c"
                       " ON c.reseller_id = p.reseller_id WHERE p.reseller_id = %s GROUP BY total", [reseller.pk])
        base, count = cursor.fetchone()
        total = base + count * CREDIT
        cursor.execute(
            """INSERT INTO credits_allocationrecord (created_at, reseller_id, customer_id, amount, credit_after,
                   available_after, pool_remaining_after, operator_name, source, remark)
               SELECT now(), reseller_id, customer_id, %s, %s, %s - used, %s - %s * row_number() OVER (ORDER BY customer_id),
                      'bench', 'system', ''
               FROM customers_customerbalance WHERE reseller_id = %s""",
            [CREDIT, CREDIT, CREDIT, total, CREDIT, reseller.pk],
        )
        cursor.execute("INSERT INTO credits_poolgrant (reseller_id, amount, note, created_at)"
                       " VALUES (%s, %s, 'bench latency', now())", [reseller.pk, count * CREDIT])
        cursor.execute("UPDATE credits_creditpool SET total = %s, remaining = %s WHERE reseller_id = %s",
                       [total, base, reseller.pk])
    print(f"  (loaded {CUSTOMERS:,} latency benchmark customers in {time.perf_counter() - t0:.1f}s)", flush=True)
    return reseller


def make_plan(customers: list[tuple[int, int]], rng: random.Random):
    """(probes, crossing, batches): probes and crossing are [(uin, threshold)]; each batch a list of
    charges (dicts for the API). Each crossing customer has one charge in the run, spread evenly
    over the batches; the rest of each batch goes to distinct other customers, 0.01–0.09 each."""
    customers = list(customers)
    rng.shuffle(customers)
    count = round(len(customers) * CROSSING_SHARE)
    probes = [(uin, THRESHOLDS[i % 3]) for i, (_, uin) in enumerate(customers[:PROBES])]
    crossing = [(uin, THRESHOLDS[i % 3]) for i, (_, uin) in enumerate(customers[PROBES:PROBES + count])]
    others = [uin for _, uin in customers[PROBES + count:]]
    batches_count = max(1, round(SECONDS * RATE / BATCH))
    incurred = datetime.now(UTC).isoformat()
    run_id = int(time.time())
    plan: list[list[dict]] = [[] for _ in range(batches_count)]
    for index, (uin, _) in enumerate(crossing):
        plan[index * batches_count // len(crossing) if crossing else 0].append(
            _charge(uin, CROSSING_CHARGE, incurred, f"lat-{run_id}-x-{uin}"))
    for number, batch in enumerate(plan):
        for position, uin in enumerate(rng.sample(others, BATCH - len(batch))):
            amount = Decimal(rng.randint(1, 9)) / 100
            batch.append(_charge(uin, amount, incurred, f"lat-{run_id}-{number}-{position}"))
        rng.shuffle(batch)
    return probes, crossing, plan


def probe_charges(probes):
    incurred = datetime.now(UTC).isoformat()
    return [_charge(uin, CROSSING_CHARGE, incurred, f"lat-{int(time.time())}-probe-{uin}") for uin, _ in probes]


def _charge(uin: int, amount: Decimal, incurred: str, external_id: str) -> dict:
    return {"ClientUin": uin, "Amount": str(amount), "IncurredAt": incurred, "ExternalId": external_id,
            "Product": "CVM", "Description": "latency benchmark"}


def reset(reseller_id: int, crossing: list[tuple[int, int]]) -> None:
    """No alerts, deliveries, messages or charges of the benchmark reseller; every customer at 10 %
    used, the crossing ones exactly one crossing charge under their threshold, so that the charge
    reaches it (at 100 % available becomes 0.00, not below: going overdue would add the account
    status notices of DESIGN §4 to the threshold alert's 7 deliveries)."""
    from django.db import connection, transaction

    from customers.models import CustomerBalance

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM notifications_message WHERE reseller_id = %s", [reseller_id])
        cursor.execute("DELETE FROM notifications_delivery d USING notifications_alert a"
                       " WHERE d.alert_id = a.id AND a.reseller_id = %s", [reseller_id])
        cursor.execute("DELETE FROM notifications_alert WHERE reseller_id = %s", [reseller_id])
        cursor.execute("DELETE FROM credits_usagecharge WHERE reseller_id = %s", [reseller_id])
        CustomerBalance.objects.filter(reseller_id=reseller_id).update(used=BASE_USED)
        for threshold in THRESHOLDS:
            uins = [uin for uin, t in crossing if t == threshold]
            CustomerBalance.objects.filter(reseller_id=reseller_id, customer__uin__in=uins).update(
                used=CREDIT * threshold / 100 - CROSSING_CHARGE)


class Sink:
    """An SMTP server in this process: accepts everything, notes (delivery id, time, recipients)."""

    def __init__(self):
        self.received: list[tuple[int | None, float, tuple]] = []
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = None

    async def handle_DATA(self, server, session, envelope):
        accepted = time.time()
        found = DELIVERY_HEADER.search(envelope.original_content or envelope.content)
        self.received.append((int(found.group(1)) if found else None, accepted, tuple(envelope.rcpt_tos)))
        return "250 OK"

    def start(self) -> None:
        import logging

        from aiosmtpd.controller import Controller

        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


class Worker:
    """The Procfile's worker command with one worker process, its log in a file."""

    def __init__(self, *, smtp_port: int, sms_dir: Path):
        self.log = Path(tempfile.mkstemp(prefix="bench-latency-worker-", suffix=".log")[1])
        self.env = {
            **os.environ, "DEBUG": "false", "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(smtp_port), "SMS_BACKEND": "file",
            "SMS_FILE_PATH": str(sms_dir),
        }
        self.process: subprocess.Popen | None = None
        self.exit_note = ""

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "partnercenter", "worker", "--loglevel=INFO", "--concurrency=1",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", "bench-latency@%h",
             f"--logfile={self.log}"],
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while " ready." not in self.log.read_text(errors="replace"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the Celery worker did not start:\n" + self.log.read_text(errors="replace")[-3000:])
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # the main process: a warm shutdown, which stops its pool process
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        errors = [text for text in self.log.read_text(errors="replace").splitlines() if "ERROR" in text]
        if errors:
            self.exit_note = f"{len(errors)} error line(s) in its log, the first: {errors[0][:200]}"
        self.log.unlink(missing_ok=True)


def send_batches(endpoint, secret_id, secret_key, batches, *, interval: float, seconds: float, clients: int) -> dict:
    """Send batch i at start + i × interval from `clients` processes (each takes the next batch; one
    that is late goes at once). A batch that cannot start within `seconds` is not sent. Returns
    {batch index: (sent at, answered at, accepted)} and "started"/"ended" wall-clock times."""
    from django.db import connections

    ctx = multiprocessing.get_context("fork")
    connections.close_all()
    following = ctx.Value("i", 0)  # the next batch to send, shared by the client processes
    done = ctx.Queue()
    start = time.time() + 1.0

    def body() -> None:
        from bench.api import LeanClient

        def connect():
            client = LeanClient(endpoint, secret_id, secret_key)
            client.connection.timeout = 600  # see GUNICORN_CMD_ARGS above
            return client

        client = connect()
        while True:
            with following.get_lock():
                index = following.value
                following.value += 1
            if index >= len(batches):
                break
            due = start + index * interval
            if due - start >= seconds or time.time() - start >= seconds:
                continue
            time.sleep(max(0.0, due - time.time()))
            sent = time.time()
            try:
                response = client.call("ReportCustomerUsage", {"Charges": batches[index]})
                done.put((index, sent, time.time(), response["Accepted"], None))
            except Exception as error:  # reported by the parent; the run's figures must show it
                done.put((index, sent, time.time(), 0, f"{type(error).__name__}: {error}"[:300]))
                client = connect()
        done.put(None)

    processes = [ctx.Process(target=body, daemon=True) for _ in range(clients)]
    for process in processes:
        process.start()
    results: dict = {}
    finished = 0
    while finished < clients:
        item = done.get(timeout=seconds + 900)
        if item is None:
            finished += 1
            continue
        index, sent, answered, accepted, error = item
        results[index] = (sent, answered, accepted, error)
    for process in processes:
        process.join()
    return {"start": start, "batches": results}


def channel_counts(reseller_id: int, sink: "Sink", sms_dir: Path) -> tuple[int, int, int]:
    """E-mails received, SMS files written, Message Center rows: cheap enough to poll."""
    from notifications.models import Message

    return (len(sink.received), sum(1 for name in os.listdir(sms_dir) if name.endswith(".sms")),
            Message.objects.filter(reseller_id=reseller_id).count())


class Outcome:
    """What one phase sent, and what reached the SMTP server, the SMS backend and the Message
    Centers for its crossing customers (`thresholds`: uin -> threshold). `others`: the other
    phase's crossing customers, whose deliveries are that phase's business."""

    def __init__(self, reseller_id, sent, batches, sink, sms_dir, thresholds: dict[int, int], *, others: dict):
        self.reseller_id, self.sink, self.sms_dir, self.others = reseller_id, sink, sms_dir, others
        self.start = sent["start"]
        self.results = sent["batches"]
        self.planned = sum(len(batch) for batch in batches)
        self.errors = [error for *_, error in self.results.values() if error]
        self.charges = sum(accepted for _, _, accepted, _ in self.results.values())
        self.last_answer = max((answered for _, answered, _, _ in self.results.values()), default=self.start)
        # A crossing charge's commit: no later than its batch's answer.
        self.answered: dict[int, float] = {}
        for index, (_, answered, accepted, error) in self.results.items():
            if error is None and accepted:
                for charge in batches[index]:
                    if charge["ClientUin"] in thresholds:
                        self.answered[charge["ClientUin"]] = answered
        self.thresholds = {uin: t for uin, t in thresholds.items() if uin in self.answered}

    def wait(self, before: tuple[int, int, int]) -> None:
        """Until every channel has received what this phase's crossings must send (or DRAIN_SECONDS
        after the last answer), then a second more: a repeat arriving late is still counted."""
        self.expected_keys = self._expected()
        wanted = [sum(1 for key in self.expected_keys if key[1] == channel) for channel in ("email", "sms", "inbox")]
        deadline = time.time() + DRAIN_SECONDS
        while time.time() < deadline:
            now = channel_counts(self.reseller_id, self.sink, self.sms_dir)
            if all(n - b >= w for n, b, w in zip(now, before, wanted)):
                break
            time.sleep(0.5)
        time.sleep(1.0)
        self.observed = self._observed()
        self._load_commit_bounds()

    def _expected(self) -> set[tuple]:
        from customers.models import Customer, Reseller

        reseller = Reseller.objects.get(pk=self.reseller_id)
        keys = set()
        rows = Customer.objects.filter(reseller_id=self.reseller_id, uin__in=list(self.thresholds))
        for uin, email, phone in rows.values_list("uin", "email", "phone"):
            keys |= {(uin, "email", reseller.contact_email.lower()), (uin, "email", MEMBER_EMAIL),
                     (uin, "email", email.lower()), (uin, "sms", reseller.contact_phone), (uin, "sms", phone),
                     (uin, "inbox", "member"), (uin, "inbox", "customer")}
        return keys

    def _observed(self) -> dict[tuple, list[float]]:
        """{(uin, channel, recipient): [times it arrived]} for every delivery of the reseller's
        customers that reached its channel, except the other phase's."""
        from notifications.models import Delivery, Message

        observed: dict[tuple, list[float]] = {}
        received = list(self.sink.received)
        owners = dict(
            Delivery.objects.filter(pk__in=[pk for pk, _, _ in received if pk is not None],
                                    alert__reseller_id=self.reseller_id)
            .values_list("pk", "alert__customer__uin")
        )
        for pk, accepted, rcpt in received:
            if pk in owners:
                observed.setdefault((owners[pk], "email", rcpt[0].lower()), []).append(accepted)
        for path in self.sms_dir.glob("*.sms"):
            content = json.loads(path.read_text())
            observed.setdefault((int(content["params"][0]), "sms", content["to"]), []).append(path.stat().st_mtime)
        for uin, member_id, created in Message.objects.filter(reseller_id=self.reseller_id).values_list(
            "customer__uin", "member_id", "created_at"
        ):
            observed.setdefault((uin, "inbox", "member" if member_id else "customer"), []).append(created.timestamp())
        return {key: sorted(times) for key, times in observed.items() if key[0] not in self.others}

    def _load_commit_bounds(self) -> None:
        from credits.models import UsageCharge

        # A crossing charge's commit: no earlier than its row was written.
        self.written = {
            uin: created.timestamp()
            for uin, created in UsageCharge.objects.filter(
                reseller_id=self.reseller_id, customer__uin__in=list(self.thresholds), amount=CROSSING_CHARGE
            ).values_list("customer__uin", "created_at")
        }

    def latencies(self, channel: str | None = None, *, bound: str = "upper") -> list[float]:
        start = self.written if bound == "upper" else self.answered
        return [
            times[0] - start[key[0]]
            for key, times in self.observed.items()
            if key in self.expected_keys and (channel is None or key[1] == channel) and key[0] in start
        ]

    def lost(self) -> int:
        return len(self.expected_keys - set(self.observed))

    def repeated(self) -> int:
        return sum(len(times) - 1 for key, times in self.observed.items() if key in self.expected_keys)

    def unexpected(self) -> int:
        return sum(len(times) for key, times in self.observed.items() if key not in self.expected_keys)


def _ms(values: list[float]) -> str:
    if not values:
        return "no deliveries"
    return (f"p50 {statistics.median(values):6.2f} s  p95 {percentile(values, 95):6.2f} s  "
            f"max {max(values):6.2f} s  ({len(values):,})")


def report(label: str, outcome: Outcome, *, show_rate: bool) -> None:
    print(f"  -- {label}", flush=True)
    if show_rate:
        elapsed = outcome.last_answer - outcome.start
        rate = outcome.charges / elapsed if elapsed > 0 else 0.0
        line("charges accepted / planned", f"{outcome.charges:,} / {outcome.planned:,} "
             f"in {elapsed:.1f} s: {rate:8.1f} charges/s (target {RATE:,.0f}/s: "
             f"{'met' if rate >= RATE * 0.95 else 'NOT MET'})")
    if outcome.errors:
        line("API errors", f"{len(outcome.errors)}, the first: {outcome.errors[0]}")
    line("crossing customers charged", f"{len(outcome.thresholds):,}")
    for channel, name in (("email", "e-mail accepted by SMTP"), ("sms", "SMS handed to its backend"),
                          ("inbox", "Message Center row")):
        line(f"commit -> {name}", _ms(outcome.latencies(channel)))
    every = outcome.latencies()
    line("commit -> every delivery", _ms(every))
    line("  the same from the API's answer (lower bound)", _ms(outcome.latencies(bound="lower")))
    p95 = percentile(every, 95) if every else float("inf")
    line(f"  target p95 <= {TARGET_P95_S:.0f} s", "met" if p95 <= TARGET_P95_S else "NOT MET")
    expected = len(outcome.expected_keys)
    once = sum(1 for key in outcome.expected_keys if len(outcome.observed.get(key, ())) == 1)
    line("deliveries expected / sent exactly once",
         f"{expected:,} / {once:,}; missing {DRAIN_SECONDS} s after the last charge {outcome.lost():,}, "
         f"repeated {outcome.repeated():,}, "
         f"unexpected {outcome.unexpected():,}  "
         f"({'nothing lost' if outcome.lost() == 0 and outcome.repeated() == 0 else 'NOT MET'})")
