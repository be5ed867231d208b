# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The error types of the collection's client library: SpoError, and JobError for errors about one import job."""

from __future__ import annotations


class SpoError(Exception):
    """A failed call to SharePoint, Graph or Entra ID, or a client-side refusal.

    Carries what a person needs to act on it: the operation, the message, the HTTP status,
    the service's error code and the request id to quote to Microsoft support.
    ``may_have_run``: the call failed in a way that leaves open whether the service ran it.
    ``result``: what the module had done before the failure (the fields of its result so far), or {}.
    The payload is declared here and nowhere else: context added on the way up makes a new error (``replace``).
    Never holds a token, a secret, a key or an Authorization header.
    """

    def __init__(self, message, status=None, code=None, request_id=None, operation=None, details=None,
                 may_have_run=False, result=None):
        self.message = message
        self.status = status
        self.code = code
        self.request_id = request_id
        self.operation = operation
        self.details = details
        self.may_have_run = may_have_run
        self.result = dict(result or {})
        super().__init__(str(self))

    def __str__(self):
        text = self.message if self.operation is None else "%s: %s" % (self.operation, self.message)
        parts = []
        if self.status is not None:
            parts.append("HTTP %s" % self.status)
        if self.code is not None:
            parts.append(str(self.code))
        if self.request_id is not None:
            parts.append("request id %s" % self.request_id)
        if parts:
            text = "%s (%s)" % (text, ", ".join(parts))
        return text

    def __reduce__(self):
        # Subclasses take other constructor arguments: rebuild from the payload, not by calling __init__ again.
        return (_restore, (self.__class__, dict(vars(self))))

    def replace(self, **payload):
        """A copy of this error (same class) with some of its payload replaced, e.g. a longer message or a result."""
        unknown = sorted(set(payload) - set(vars(self)))
        if unknown:
            raise TypeError("%s has no payload field %s" % (self.__class__.__name__, ", ".join(unknown)))
        return _restore(self.__class__, dict(vars(self), **payload))

    def to_result(self):
        """The fields added to fail_json next to msg."""
        return {
            "status": self.status,
            "error_code": self.code,
            "request_id": self.request_id,
            "operation": self.operation,
        }


class JobError(SpoError):
    """An SpoError about one import job; ``job`` is the job as last seen (the dict the modules return)."""

    def __init__(self, job, message, **kwargs):
        self.job = job
        super().__init__(message, **kwargs)


def failed_users_message(failures, total, listed=20):
    """One line for a run over many users of which some failed: failures are (user, reason) pairs, the first `listed`
    of them named."""
    more = "; and %d more" % (len(failures) - listed) if len(failures) > listed else ""
    return "%d of %d users failed: %s%s" % (len(failures), total, "; ".join(
        "%s: %s" % failure for failure in failures[:listed]), more)


def _restore(cls, payload):
    error = cls.__new__(cls)
    vars(error).update(payload)
    Exception.__init__(error, str(error))
    return error
