"""The Partner API through a real HTTP server: gunicorn serving the app, every request signed with
TC3-HMAC-SHA256, and the rate limit raised (not switched off) for the run.

- QueryCustomersCredit, PageSize 100, random pages over the 100,000 benchmark customers, one
  official-SDK client: p50 / p95 latency and requests per second. Target p95 <= 50 ms.
- AllocateCustomerCredit with 8 concurrent signed clients (LeanClient below), alternating +1.00 /
  -1.00 so the pool stays level, against credit_allocate called in-process by 8 threads in the same
  run. Target: HTTP allocations >= 0.5 of the in-process rate. The two alternate in short rounds so
  that a burst of load from elsewhere on the machine falls on both alike.
"""

import http.client
import os
import random
import signal
import socket
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

from django.db import connections

from bench.common import drive, ensure_scale_dataset, line, percentile, summary_ms

WORKERS = int(os.environ.get("BENCH_CLIENTS", "8"))
ROUNDS = 4
ROUND_SECONDS = 2.5
QUERY_REQUESTS = 400
ONE = Decimal("1.00")
# Requests are short and the pool row serialises allocations, so a few single-threaded workers on
# two cores beat many threads contending for each worker's GIL while one of them holds the lock.
GUNICORN_WORKERS = int(os.environ.get("BENCH_GUNICORN_WORKERS", "4"))
GUNICORN_CLASS = os.environ.get("BENCH_GUNICORN_CLASS", "sync")
GUNICORN_THREADS = int(os.environ.get("BENCH_GUNICORN_THREADS", "1"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn in its own process group, always stopped (even when the benchmark fails)."""

    def __init__(self):
        self.port = _free_port()
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Server":
        root = Path(__file__).resolve().parent.parent
        env = {
            **os.environ,
            # Raised for the run, not switched off: every request is still counted in Redis.
            "API_RATE_LIMIT_CREDIT": "1000000",
            "API_RATE_LIMIT_DEFAULT": "1000000",
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
            # The benchmark serves no static files; whitenoise's "no STATIC_ROOT yet" is noise here.
            "PYTHONWARNINGS": "ignore:No directory at:UserWarning",
        }
        self.process = subprocess.Popen(
            [str(Path(sys.executable).with_name("gunicorn")), "partnercenter.wsgi:application",
             "--bind", f"127.0.0.1:{self.port}", "--workers", str(GUNICORN_WORKERS), "--worker-class", GUNICORN_CLASS,
             "--threads", str(GUNICORN_THREADS), "--log-level", "warning"],
            cwd=root, env=env, start_new_session=True,
        )
        return self

    def __exit__(self, *exc) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def wait_ready(self, client, timeout: float = 30.0) -> None:
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
        from tencentcloud.intlpartnersmgt.v20220928 import models

        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with status {self.process.returncode}")
            try:
                client.QueryPartnerCredit(models.QueryPartnerCreditRequest())
                return
            except TencentCloudSDKException as error:
                if error.code != "ClientNetworkError" or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)


def _client(endpoint: str, secret_id: str, secret_key: str):
    from tencentcloud.common import credential
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile
    from tencentcloud.intlpartnersmgt.v20220928 import intlpartnersmgt_client

    profile = ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=endpoint, keepAlive=True, reqTimeout=30))
    return intlpartnersmgt_client.IntlpartnersmgtClient(credential.Credential(secret_id, secret_key), "", profile)


class _NoDelayConnection(http.client.HTTPConnection):
    """http.client with Nagle's algorithm off, as the SDK's urllib3 connections have it: http.client
    sends a body over 2,000 bytes apart from its headers, and with Nagle on, the body's first packet
    waited for the server's delayed ACK of the headers (up to 40 ms), which the SDK never waits."""

    def connect(self):
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class LeanClient:
    """A signed client without the SDK's requests/urllib3 stack, for the throughput run: client and
    server share this machine's CPUs, and the SDK's own overhead would otherwise be measured as the
    server's. It signs exactly as the SDK does (tests/api/test_signing.py compares the two)."""

    def __init__(self, endpoint: str, secret_id: str, secret_key: str):
        self.endpoint, self.secret_id, self.secret_key = endpoint, secret_id, secret_key
        host, port = endpoint.split(":")
        self.connection = _NoDelayConnection(host, int(port), timeout=30)

    def call(self, action: str, params: dict) -> dict:
        import json

        from api.signing import authorization_header

        body = json.dumps(params).encode()
        timestamp = int(time.time())
        headers = {"Content-Type": "application/json", "Host": self.endpoint, "X-TC-Action": action,
                   "X-TC-Version": "2022-09-28", "X-TC-Timestamp": str(timestamp)}
        headers["Authorization"] = authorization_header(
            secret_id=self.secret_id, secret_key=self.secret_key, body=body, headers=headers, timestamp=timestamp
        )
        self.connection.request("POST", "/", body=body, headers=headers)
        response = json.loads(self.connection.getresponse().read())["Response"]
        if "Error" in response:
            raise RuntimeError(f"{action}: {response['Error']}")
        return response


def run() -> None:
    from api.models import ApiKey
    from api.services import api_key_create
    from credits.services import credit_allocate
    from customers.models import Customer, Member

    reseller = ensure_scale_dataset()
    member = Member.objects.select_related("user").get(reseller=reseller, user__username="bench")
    customers = Customer.objects.filter(reseller=reseller)
    total = customers.count()
    uins = list(customers.filter(balance__available__gte=100).values_list("uin", flat=True))
    ids_by_uin = dict(customers.filter(uin__in=uins).values_list("uin", "id"))
    print(f"  gunicorn {GUNICORN_WORKERS} {GUNICORN_CLASS} workers x {GUNICORN_THREADS} thread(s); {total:,} customers; "
          f"{WORKERS} clients; allocations alternate in-process / HTTP, {ROUNDS} rounds of {ROUND_SECONDS} s each",
          flush=True)

    def service_step():
        def step(uin, amount):
            credit_allocate(reseller=reseller, customer=ids_by_uin[uin], amount=amount, actor=member.user,
                            source="api", operator_name="bench-in-process")
        return step

    key, secret_key = api_key_create(user=member.user, description="benchmark (deleted after the run)")
    connections.close_all()
    try:
        with Server() as server:
            server.wait_ready(_client(server.endpoint, key.secret_id, secret_key))
            from tencentcloud.intlpartnersmgt.v20220928 import models

            client = _client(server.endpoint, key.secret_id, secret_key)
            pages = (total + 99) // 100
            rng = random.Random(7)
            for _ in range(20):  # warm every worker's connection and caches
                req = models.QueryCustomersCreditRequest()
                req.Page, req.PageSize = rng.randint(1, pages), 100
                client.QueryCustomersCredit(req)
            samples = []
            started = time.perf_counter()
            for _ in range(QUERY_REQUESTS):
                req = models.QueryCustomersCreditRequest()
                req.Page, req.PageSize = rng.randint(1, pages), 100
                t0 = time.perf_counter()
                resp = client.QueryCustomersCredit(req)
                samples.append((time.perf_counter() - t0) * 1000)
                if len(resp.Data) != 100 and req.Page < pages:
                    raise RuntimeError(f"page {req.Page} returned {len(resp.Data)} rows")
            query_rate = QUERY_REQUESTS / (time.perf_counter() - started)
            line("QueryCustomersCredit PageSize 100 (1 client)", f"{summary_ms(samples)}  {query_rate:7.1f} req/s")
            line("  target p95 <= 50 ms", "met" if percentile(samples, 95) <= 50 else "NOT MET")

            def http_step():
                own = LeanClient(server.endpoint, key.secret_id, secret_key)

                def step(uin, amount):
                    own.call("AllocateCustomerCredit", {"ClientUin": uin, "AddedCredit": float(amount)})
                return step

            in_process_s = http_s = 0.0
            in_process_ms: list[float] = []
            http_ms: list[float] = []
            for _ in range(ROUNDS):
                elapsed, samples = drive(service_step, uins, workers=WORKERS, seconds=ROUND_SECONDS)
                in_process_s += elapsed
                in_process_ms += samples
                elapsed, samples = drive(http_step, uins, workers=WORKERS, seconds=ROUND_SECONDS)
                http_s += elapsed
                http_ms += samples
            in_process_rate = len(in_process_ms) / in_process_s
            http_rate = len(http_ms) / http_s
    finally:
        ApiKey.objects.filter(pk=key.pk).delete()

    line(f"credit_allocate in-process ({WORKERS} processes)", f"{summary_ms(in_process_ms)}  {in_process_rate:7.1f} ops/s")
    line(f"AllocateCustomerCredit HTTP ({WORKERS} clients)", f"{summary_ms(http_ms)}  {http_rate:7.1f} req/s")
    ratio = http_rate / in_process_rate
    line("  HTTP / in-process (target >= 0.50)", f"{ratio:.2f} {'met' if ratio >= 0.5 else 'NOT MET'}")
