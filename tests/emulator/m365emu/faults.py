"""Fault settings switched at run time through POST /_emulator/faults.

Settings live in scopes: the global scope (tenant None) and one scope per tenant name. A tenant's
setting wins over the global one. Keys: throttle, reset, load (dicts), latency_ms, token_lifetime,
job_delay, job_duration, job_outcome, queue_empty_guid, job_list_threshold, complete_with_error_state,
log_folder_naming, log_folder_location, max_file_bytes, max_properties (see docs/developer_guide.md for each).
"""

import random
import threading

# Settings that choose between the forms the service is documented (or seen) to take.
_CHOICES = {"complete_with_error_state": ("Succeeded", "Error"), "log_folder_naming": ("job_id", "file_name"),
            "log_folder_location": ("library", "file_folder"),
            "job_outcome": ("InternalError", "stuck_queued")}
ENTRA_HOST = "login.microsoftonline.com"


class FaultSettings:
    def __init__(self):
        self._lock = threading.Lock()
        self._scopes = {}
        self._random = random.Random()
        self.active = False  # cheap check for the proxy's hot path

    def get(self, key, default=None, tenant=None):
        scopes = self._scopes
        if tenant is not None:
            scope = scopes.get(tenant)
            if scope and key in scope:
                return scope[key]
        scope = scopes.get(None)
        if scope and key in scope:
            return scope[key]
        return default

    def update(self, settings):
        """Merge settings (the POST body) into the scope named by settings["tenant"]."""
        settings = dict(settings)
        tenant = settings.pop("tenant", None)
        for key, value in settings.items():
            if key in ("throttle", "reset") and value is not None:
                if not isinstance(value, dict):
                    raise ValueError("%s must be an object" % key)
                value = dict(value)
                rate = float(value.get("rate", 1.0))
                if not 0.0 <= rate <= 1.0:
                    raise ValueError("%s.rate must be between 0 and 1" % key)
                value["rate"] = rate
                if key == "throttle":
                    status = int(value.get("status", 429))
                    if status not in (429, 503):
                        raise ValueError("throttle.status must be 429 or 503")
                    value["status"] = status
                    value["retry_after"] = value.get("retry_after", 1)
                settings[key] = value
            if key == "load" and value is not None:
                settings[key] = _load_setting(value)
            if key in _CHOICES and value is not None and value not in _CHOICES[key]:
                raise ValueError("%s must be one of %s" % (key, ", ".join(_CHOICES[key])))
            if key == "job_list_threshold" and value is not None and (
                    isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise ValueError("job_list_threshold must be a whole number, 0 or more")
        with self._lock:
            scope = self._scopes.setdefault(tenant, {})
            for key, value in settings.items():
                if value is None:
                    scope.pop(key, None)
                else:
                    scope[key] = value
            if not scope:
                self._scopes.pop(tenant, None)
            self.active = bool(self._scopes)

    def clear(self):
        with self._lock:
            self._scopes = {}
            self.active = False

    def snapshot(self):
        with self._lock:
            result = dict(self._scopes.get(None, {}))
            tenants = {name: dict(scope) for name, scope in self._scopes.items() if name is not None}
        if tenants:
            result["tenants"] = tenants
        return result

    # -- decisions taken by the proxy for each proxied request --------------
    def _matches_host(self, fault, host):
        wanted = fault.get("host")
        if not wanted:
            # login.microsoftonline.com is spared unless asked for by name: MSAL gives up on a 429
            return host != ENTRA_HOST
        wanted = wanted.lower()
        return host == wanted or host.endswith(wanted)

    def _draw(self, key, host, tenant):
        """The fault dict when this request is hit by fault `key` (consuming its count), else None."""
        with self._lock:
            for scope_name in ((tenant, None) if tenant is not None else (None,)):
                scope = self._scopes.get(scope_name)
                fault = scope.get(key) if scope else None
                if not fault or not self._matches_host(fault, host):
                    continue
                if self._random.random() >= fault.get("rate", 1.0):
                    return None
                count = fault.get("count")
                if count is not None:
                    if count <= 0:
                        return None
                    fault["count"] = count - 1
                    if count - 1 <= 0:
                        scope.pop(key, None)
                        if not scope:
                            self._scopes.pop(scope_name, None)
                        self.active = bool(self._scopes)
                return dict(fault)
        return None

    def load_limits(self, host, tenant):
        """The load setting that applies to a request to host in tenant (None when there is none)."""
        limits = self.get("load", tenant=tenant)
        if limits is None or not self._matches_host(limits, host):
            return None
        return limits

    def draw_throttle(self, host, tenant):
        return self._draw("throttle", host, tenant)

    def draw_reset(self, host, tenant):
        return self._draw("reset", host, tenant)


def _load_setting(value):
    """Check a load setting: {"max_in_flight": n, "per_second": r, "status", "retry_after", "host"}."""
    if not isinstance(value, dict):
        raise ValueError("load must be an object")
    value = dict(value)
    max_in_flight = value.get("max_in_flight")
    per_second = value.get("per_second")
    if max_in_flight is None and per_second is None:
        raise ValueError("load needs max_in_flight or per_second")
    if max_in_flight is not None and (isinstance(max_in_flight, bool) or not isinstance(max_in_flight, int)
                                      or max_in_flight < 1):
        raise ValueError("load.max_in_flight must be a whole number, 1 or more")
    if per_second is not None and (isinstance(per_second, bool) or not isinstance(per_second, (int, float))
                                   or per_second <= 0):
        raise ValueError("load.per_second must be a number above 0")
    value["status"] = int(value.get("status", 429))
    if value["status"] not in (429, 503):
        raise ValueError("load.status must be 429 or 503")
    value["retry_after"] = value.get("retry_after", 1)
    return value


FAULTS = FaultSettings()
