"""An SMTP server that accepts every message and counts them, in a process of its own:
`python -m bench.smtp_sink PORT` prints "ready", then answers each line read on its standard input
with the number of messages accepted so far, and stops at the end of its input.

The alerts section's e-mail throughput measures the worker; with the server in the benchmark's own
process it shared that process's interpreter lock with whatever the earlier sections had left
running there, and the same worker measured 34 e-mails/s in a full run against 400/s from a
fresh process."""

import logging
import sys
import threading

from aiosmtpd.controller import Controller


class Counter:
    def __init__(self):
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
        return "250 OK"


def main(port: int) -> None:
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command
    counter = Counter()
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        for _ in sys.stdin:
            print(counter.count, flush=True)
    finally:
        controller.stop()


class Sink:
    """The parent's handle: start(), count(), stop()."""

    def __init__(self, port: int):
        import subprocess
        from pathlib import Path

        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.smtp_sink", str(port)], cwd=Path(__file__).resolve().parent.parent,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError("the SMTP sink did not start")

    def count(self) -> int:
        self.process.stdin.write("\n")
        self.process.stdin.flush()
        return int(self.process.stdout.readline())

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.wait(15)


if __name__ == "__main__":
    main(int(sys.argv[1]))
