"""Report a training job's work counters to the local fleetscope agent.

The agent (``fleetscope agent ... --work-port 9465``) accepts work counters on
``http://127.0.0.1:PORT/v1/work`` and forwards them to the hub with its chip
telemetry, so the hub can tell tokens (steps, samples ...) per joule and per
chip-hour. This module is the job's side: standard library only, no torch
import, and it never raises into the training loop because of the agent (a
missing agent, a slow one, a refused report): errors are counted and logged at
most once a minute.

Counters are cumulative: ``add`` increases them, a daemon thread posts their
current values every ``every`` seconds (when they changed, and at least every
30 s), ``close`` posts them once more. Losing a post loses nothing: the next
one carries the totals.

PyTorch::

    from fleetscope_work import WorkReporter

    reporter = WorkReporter(job=os.environ.get("SLURM_JOB_ID", "my-run"),
                            labels={"model": "llama-8b"})
    # for step, batch in enumerate(loader):
    #     loss = model(batch["input_ids"]).loss
    #     loss.backward(); optimizer.step(); optimizer.zero_grad()
    #     reporter.add_many(tokens=batch["input_ids"].numel(), steps=1)
    reporter.close()

torch-neuronx (Trainium)::

    reporter = WorkReporter(job="trn-run-7", chips=None)  # None: every chip of the agent
    # for step, batch in enumerate(loader):
    #     batch = {k: v.to(xm.xla_device()) for k, v in batch.items()}
    #     loss = model(**batch).loss
    #     loss.backward(); optimizer.step(); xm.mark_step()
    #     reporter.add("tokens", batch["input_ids"].numel())
    #     reporter.add("steps")
    reporter.close()

With several processes per host (one per chip), give each its own ``chips``
(the chip ids the agent reports, e.g. GPU UUIDs) or let one rank report for
all. The URL can also come from the ``FLEETSCOPE_WORK_URL`` environment
variable.

Run as a script it reports a made-up job, for a try-out::

    python3 fleetscope_work.py --job demo --unit steps --rate 10 --seconds 5
"""

import json
import logging
import os
import re
import threading
import time
import urllib.error
import urllib.request

__all__ = ["WorkReporter", "DEFAULT_URL"]

DEFAULT_URL = "http://127.0.0.1:9465/v1/work"
_UNIT = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
_LOG_EVERY_S = 60.0
_HEARTBEAT_S = 30.0

log = logging.getLogger("fleetscope_work")


class WorkReporter:
    """Cumulative work counters of one job, posted to the local agent from a daemon thread.

    ``job``: the job id (1-128 characters: letters, digits, ``. _ : / @ + = -``).
    ``url``: the agent's work endpoint (default ``$FLEETSCOPE_WORK_URL`` or
    http://127.0.0.1:9465/v1/work). ``chips``: the chip ids the job runs on
    (None: every chip of the agent). ``labels``: string labels shown with the
    job. ``every``: seconds between posts. ``timeout``: seconds one post may take.
    """

    def __init__(self, job, url=None, chips=None, labels=None, every=1.0, timeout=2.0):
        if not isinstance(job, str) or not re.match(r"^[A-Za-z0-9._:/@+=-]{1,128}$", job):
            raise ValueError("job must be 1-128 characters: letters, digits, . _ : / @ + = -")
        self.job = job
        self.url = url or os.environ.get("FLEETSCOPE_WORK_URL") or DEFAULT_URL
        self.chips = list(chips) if chips else None
        self.labels = {str(k): str(v) for k, v in (labels or {}).items()} or None
        self.every = max(0.05, float(every))
        self.timeout = float(timeout)
        #: Posts that failed (agent down, refused report, timeout), and that succeeded.
        self.errors = 0
        self.sent = 0
        self._counters = {}
        self._lock = threading.Lock()
        self._version = 0
        self._sent_version = 0
        self._last_sent_at = 0.0
        self._last_log_at = -_LOG_EVERY_S
        self._stop = threading.Event()
        # The agent is local: never through an http_proxy from the environment.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self._thread = threading.Thread(target=self._run, name="fleetscope-work", daemon=True)
        self._thread.start()

    # ---- called from the training loop: cheap, never blocks on the network ----

    def add(self, unit="tokens", n=1):
        """Add ``n`` (>= 0) to the counter ``unit``."""
        if not _UNIT.match(unit):
            raise ValueError("a unit is a letter, then letters, digits or _ (tokens, steps, samples)")
        if n < 0:
            raise ValueError("counters only grow: n must be >= 0")
        with self._lock:
            self._counters[unit] = self._counters.get(unit, 0) + n
            self._version += 1

    def add_many(self, **units):
        """``add_many(tokens=4096, steps=1)``: add to several counters at once."""
        for unit, n in units.items():
            self.add(unit, n)

    @property
    def counters(self):
        with self._lock:
            return dict(self._counters)

    def flush(self):
        """Post the counters now; returns True when the agent accepted them (never raises)."""
        with self._lock:
            counters = dict(self._counters)
            version = self._version
        report = {"ts": int(time.time() * 1000), "job": self.job, "counters": counters}
        if self.chips:
            report["chips"] = self.chips
        if self.labels:
            report["labels"] = self.labels
        try:
            body = json.dumps(report).encode("utf-8")
            req = urllib.request.Request(self.url, data=body, method="POST", headers={"content-type": "application/json"})
            with self._opener.open(req, timeout=self.timeout) as res:
                res.read()
            with self._lock:
                self._sent_version = max(self._sent_version, version)
            self._last_sent_at = time.monotonic()
            self.sent += 1
            return True
        except Exception as err:  # noqa: BLE001 - whatever happens, training goes on
            self.errors += 1
            now = time.monotonic()
            if now - self._last_log_at >= _LOG_EVERY_S:
                self._last_log_at = now
                detail = err
                if isinstance(err, urllib.error.HTTPError):
                    try:
                        detail = "%s %s" % (err.code, err.read().decode("utf-8", "replace")[:300])
                    except Exception:  # noqa: BLE001
                        pass
                log.warning("fleetscope: cannot report work to %s (%s failed so far): %s", self.url, self.errors, detail)
            return False

    def close(self):
        """Stop the thread and post the counters one last time (if they changed since the last post)."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join(timeout=self.timeout + 1.0)
        with self._lock:
            changed = self._version != self._sent_version or self.sent == 0
        if changed:
            self.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    # ---- the daemon thread ----

    def _run(self):
        while not self._stop.wait(self.every):
            with self._lock:
                changed = self._version != self._sent_version
            if changed or time.monotonic() - self._last_sent_at >= _HEARTBEAT_S:
                self.flush()


def _main(argv=None):
    import argparse

    p = argparse.ArgumentParser(description="Report made-up work counters to the local fleetscope agent.")
    p.add_argument("--job", required=True)
    p.add_argument("--url", default=None, help="default: $FLEETSCOPE_WORK_URL or " + DEFAULT_URL)
    p.add_argument("--unit", default="steps")
    p.add_argument("--rate", type=float, default=10.0, help="units per second")
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--every", type=float, default=1.0)
    p.add_argument("--chips", default=None, help="comma-separated chip ids (default: every chip of the agent)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    chips = [c for c in args.chips.split(",") if c] if args.chips else None
    with WorkReporter(args.job, url=args.url, chips=chips, every=args.every) as r:
        end = time.monotonic() + args.seconds
        while time.monotonic() < end:
            time.sleep(1.0 / args.rate)
            r.add(args.unit, 1)
    print(json.dumps({"job": args.job, "counters": r.counters, "sent": r.sent, "errors": r.errors}))


if __name__ == "__main__":
    _main()
