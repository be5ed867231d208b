# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one error type of the collection's client library."""

from __future__ import annotations


class SpoError(Exception):
    """A failed call to SharePoint, Graph or Entra ID, or a client-side refusal.

    Carries what a person needs to act on it: the operation, the message, the HTTP status,
    the service's error code and the request id to quote to Microsoft support.
    Never holds a token, a secret, a key or an Authorization header.
    """

    def __init__(self, message, status=None, code=None, request_id=None, operation=None, details=None):
        self.message = message
        self.status = status
        self.code = code
        self.request_id = request_id
        self.operation = operation
        self.details = details
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
        return (self.__class__, (self.message, self.status, self.code, self.request_id, self.operation, self.details))

    def to_result(self):
        """The fields added to fail_json next to msg."""
        return {
            "status": self.status,
            "error_code": self.code,
            "request_id": self.request_id,
            "operation": self.operation,
        }
