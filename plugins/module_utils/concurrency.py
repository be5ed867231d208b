# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Adaptive concurrency, shared by all workers of one task.

SharePoint throttles an app by its load on the tenant (429 or 503 with Retry-After), so the right number of requests
in flight depends on the tenant and the hour. ``AdaptiveLimit`` finds it while a task runs:

- it starts at ``start`` requests in flight and grows while requests succeed and their latency holds: it doubles
  after each round of answers until the first sign of load (slow start), then grows by one per round. A round is as
  many answers as the limit allowed when it began, counting only requests sent at the current limit;
- latency holds while a round's mean stays within ``latency_tolerance`` times the best round's mean; a slower round
  ends slow start and the limit stops growing for that round;
- a throttled answer halves the limit, once per round (answers to requests sent before the cut do not cut again),
  and the limit it was throttled at is remembered: the limit climbs back to just below it, and tries it again only
  after ``PROBE_ROUNDS`` good rounds there. A try that holds for a round makes the next level the one to try, the same
  way, so above a level once throttled the limit grows by one every so many rounds, never by one a round. A throttle
  at (or just below) the level remembered doubles the rounds before the next try: that is where the tenant's limit
  is. A tenant that throttles at 12 in flight is then asked 11 at a time, not throttled every few rounds;
- a Retry-After pauses every worker: no request starts before it has passed, and then at most the halved limit
  start, so the pool never comes back all at once;
- ``ceiling`` (a module's ``concurrency`` option) bounds it, and it never goes below 1.

SpoClient takes the limit (its ``limiter``) and tells it about every request to SharePoint or Graph: a throttled
request anywhere in the pool slows the whole pool, while the request's own retries stay bounded by SpoClient.
``run_bounded`` is the worker pool itself: it reads its items lazily, so memory stays bounded by the number of
workers, not of items. The clock and sleep are injectable, so tests run without waiting.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

# The default ceiling of requests in flight per task, and where the limit starts.
DEFAULT_CONCURRENCY = 16
DEFAULT_START = 4
LATENCY_TOLERANCE = 2.0
# Good rounds just below the limit last throttled at before it is tried again (doubled after each failed try, up to
# the maximum).
PROBE_ROUNDS = 8
MAX_PROBE_ROUNDS = 512


class Slot:
    """One request in flight: the limit's round it was sent in, and when."""

    __slots__ = ("generation", "started")

    def __init__(self, generation, started):
        self.generation = generation
        self.started = started


class AdaptiveLimit:
    """How many requests may be in flight at once; see the module docstring."""

    def __init__(self, ceiling=DEFAULT_CONCURRENCY, start=DEFAULT_START, latency_tolerance=LATENCY_TOLERANCE,
                 clock=time.monotonic, sleep=time.sleep):
        self.ceiling = max(1, int(ceiling))
        self.limit = max(1, min(int(start), self.ceiling))
        self.latency_tolerance = latency_tolerance
        self._clock = clock
        self._sleep = sleep
        self._cond = threading.Condition()
        self._paused_until = None
        self._generation = 0
        self._slow_start = True
        self._best_round = None
        self._throttled_at = None
        self._probe_rounds = PROBE_ROUNDS
        self._rounds_below = 0
        self._new_round()
        self.in_flight = 0
        self.peak = self.limit
        self.throttled_count = 0
        self.paused_seconds = 0.0

    def _new_round(self):
        """Start counting a round of answers at the current limit."""
        self._round_size = self.limit
        self._round_answers = 0
        self._round_latency = 0.0

    def acquire(self, blocking=True):
        """A Slot once a request may start (after any pause, within the limit); None instead of waiting when not
        `blocking`."""
        while True:
            with self._cond:
                pause = 0.0 if self._paused_until is None else self._paused_until - self._clock()
                if pause <= 0:
                    if self.in_flight < self.limit:
                        self.in_flight += 1
                        return Slot(self._generation, self._clock())
                    if not blocking:
                        return None
                    self._cond.wait()
                    continue
                if not blocking:
                    return None
            # Sleep outside the lock: answers still arrive and are counted while the pool waits.
            self._sleep(pause)

    def done(self, slot):
        """The request was answered (not throttled): count it toward the round; grow at the end of a good round."""
        with self._cond:
            self._release()
            if slot.generation != self._generation:
                return
            self._round_answers += 1
            self._round_latency += self._clock() - slot.started
            if self._round_answers >= self._round_size:
                self._end_round()

    def throttled(self, slot, retry_after=None):
        """The request was answered 429 or 503: halve the limit (once per round) and pause everyone for
        `retry_after` seconds when the service said so."""
        with self._cond:
            self._release()
            self.throttled_count += 1
            if slot.generation == self._generation:
                if self._throttled_at is not None and self.limit >= self._throttled_at - 1:
                    # Throttled again where it was before (a try, or the level just below): try it ever more rarely.
                    self._probe_rounds = min(self._probe_rounds * 2, MAX_PROBE_ROUNDS)
                self._throttled_at = self.limit
                self._rounds_below = 0
                self.limit = max(1, self.limit // 2)
                self._generation += 1
                self._slow_start = False
                self._new_round()
            if retry_after:
                now = self._clock()
                paused_until = now if self._paused_until is None else max(now, self._paused_until)
                if now + retry_after > paused_until:
                    self.paused_seconds += now + retry_after - paused_until
                    self._paused_until = now + retry_after

    def abandon(self, slot):
        """The request got no answer (connection failure): free its place, learn nothing."""
        with self._cond:
            self._release()

    def stats(self):
        """What the limit did in this task, for the module's result."""
        with self._cond:
            return {"ceiling": self.ceiling, "final": self.limit, "peak": self.peak,
                    "throttled": self.throttled_count, "paused_seconds": round(self.paused_seconds, 3)}

    def _release(self):
        self.in_flight -= 1
        self._cond.notify_all()

    def _end_round(self):
        mean = self._round_latency / self._round_answers
        if self._best_round is None or mean < self._best_round:
            self._best_round = mean
        if mean > self._best_round * self.latency_tolerance:
            self._slow_start = False  # answers slow down: the service is loaded, hold the limit
        else:
            self.limit = min(self._grown(), self.ceiling)
            self.peak = max(self.peak, self.limit)
        self._new_round()

    def _grown(self):
        """The limit after a good round."""
        if self._slow_start:
            return self.limit * 2
        if self._throttled_at is None:
            return self.limit + 1
        if self.limit >= self._throttled_at:
            # A good round where it was throttled: the tenant takes this now; the next level is tried the same way.
            self._throttled_at = self.limit + 1
            self._rounds_below = 0
            return self.limit
        if self.limit + 1 < self._throttled_at:
            return self.limit + 1
        self._rounds_below += 1
        if self._rounds_below < self._probe_rounds:
            return self.limit
        self._rounds_below = 0
        return self.limit + 1  # try where it was throttled


def run_bounded(func, items, workers):
    """Call ``func(item)`` for every item on ``workers`` threads; yield ``(item, result)`` as each call ends.

    Items are taken from the iterable only as workers free up, so at most ``workers`` are held at once. An exception
    of ``func`` ends the run: no other call starts, the calls already started finish and their results are still
    yielded (what they did is not lost), then the first exception is raised.
    """
    iterator = iter(items)
    error = None
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        pending = {}
        while True:
            while error is None and len(pending) < workers:
                try:
                    item = next(iterator)
                except StopIteration:
                    break
                pending[pool.submit(func, item)] = item
            if not pending:
                break
            finished, _running = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                item = pending.pop(future)
                try:
                    result = future.result()
                except Exception as exc:  # pylint: disable=broad-except  # raised below, once the others finished
                    error = error or exc
                    continue
                yield item, result
    if error is not None:
        raise error
