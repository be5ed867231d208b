# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One schedule of waits for every loop that waits: the HTTP client's retries, the polls of a job, the pauses
before a queue call is sent again.

A schedule starts at ``start`` seconds and grows ``growth`` times per step up to ``cap``. With ``jitter`` (a
fraction), each wait is shortened at random by up to that fraction of its step, so that many clients throttled
together do not come back together. With ``deadline`` (seconds from when the schedule is made), no wait ends
after it. The clock, sleep and random source are injectable, so tests run without waiting.
"""

from __future__ import annotations

import random
import time


class Backoff:
    """The waits of one loop; see the module docstring."""

    def __init__(self, start, growth=1.0, cap=None, jitter=0.0, deadline=None, clock=time.monotonic, sleep=time.sleep,
                 rand=random.random):
        self._step = start
        self.growth = growth
        self.cap = cap
        self.jitter = jitter
        self._clock = clock
        self._sleep = sleep
        self._rand = rand
        self.started = clock()
        self.deadline = None if deadline is None else self.started + deadline

    def next_delay(self, instead=None):
        """The next wait: ``instead`` when given (the service's Retry-After), else the step, jittered. Either way the
        schedule moves on one step."""
        delay = self._step if instead is None else instead
        if instead is None and self.jitter:
            delay *= 1 - self.jitter + self.jitter * self._rand()
        grown = self._step * self.growth
        self._step = grown if self.cap is None else min(grown, self.cap)
        return delay

    def elapsed(self):
        return self._clock() - self.started

    def remaining(self):
        """Seconds left until the deadline (negative once it has passed); infinite without one."""
        return float("inf") if self.deadline is None else self.deadline - self._clock()

    def fits(self, delay):
        """Whether a wait of ``delay`` seconds from now ends by the deadline."""
        return delay <= self.remaining()

    def sleep(self, delay):
        self._sleep(delay)

    def wait(self):
        """Sleep the next step, cut short at the deadline; False, without sleeping, once the deadline has passed."""
        remaining = self.remaining()
        if remaining <= 0:
            return False
        self._sleep(min(self.next_delay(), remaining))
        return True
