"""Load-based throttling: how many requests one app may have in flight, and send per second, in one tenant.

SharePoint and Graph throttle an app per tenant when it sends too much at once or too fast, answering
429 (or 503) with Retry-After. The limits come from the `load` fault setting ({"max_in_flight": n,
"per_second": r}); the proxy asks admit() before it serves a request and calls release() once answered.
Every request counts toward the per-second window, throttled ones too ("throttled requests count toward
usage", as Microsoft's throttling guidance says), so a client that ignores Retry-After stays throttled.
"""

import collections
import threading
import time

WINDOW_SECONDS = 1.0


class LoadLimiter:
    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._in_flight = collections.Counter()          # (tenant, app id) -> requests being served
        self._arrivals = collections.defaultdict(collections.deque)   # (tenant, app id) -> arrival times

    def admit(self, key, limits):
        """None when the request may be served (it then counts as in flight until release(key)), else the
        reason it is throttled: "in_flight" or "per_second"."""
        max_in_flight = limits.get("max_in_flight")
        per_second = limits.get("per_second")
        now = self._clock()
        with self._lock:
            arrivals = self._arrivals[key]
            while arrivals and arrivals[0] <= now - WINDOW_SECONDS:
                arrivals.popleft()
            arrivals.append(now)
            if per_second is not None and len(arrivals) > per_second:
                return "per_second"
            if max_in_flight is not None and self._in_flight[key] >= max_in_flight:
                return "in_flight"
            self._in_flight[key] += 1
            return None

    def release(self, key):
        with self._lock:
            self._in_flight[key] -= 1
            if self._in_flight[key] <= 0:
                del self._in_flight[key]

    def in_flight(self, key):
        with self._lock:
            return self._in_flight[key]


LOAD = LoadLimiter()
