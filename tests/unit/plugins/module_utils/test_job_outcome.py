# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a job's end means, decided once."""

from __future__ import annotations

import pytest

from ansible_collections.spo.user_profiles.plugins.module_utils.job_outcome import OUTCOMES, outcome, with_outcome


@pytest.mark.parametrize("job, allowed, expected", [
    ({"state": "Processing", "error": "NoError"}, 0, "running"),
    ({"state": "Succeeded", "error": "NoError"}, 0, "succeeded"),
    ({"state": "Succeeded", "error": "ImportCompleteWithError", "failed_count": 2}, 2, "succeeded_with_failures"),
    ({"state": "Error", "error": "ImportCompleteWithError", "failed_count": 2}, 2, "succeeded_with_failures"),
    ({"state": "Succeeded", "error": "ImportCompleteWithError", "failed_count": 3}, 2, "failed"),
    ({"state": "Succeeded", "error": "ImportCompleteWithError", "failed_count": None}, 100, "failed"),
    ({"state": "Error", "error": "InternalError"}, 100, "failed"),
])
def test_outcomes(job, allowed, expected):
    decided, message = outcome(dict(job, source_uri="https://x/f.json", job_id="j"), allowed)
    assert decided == expected and decided in OUTCOMES
    assert (message is not None) == (expected == "failed")


def test_with_outcome_keeps_the_job_and_adds_both_keys():
    job = {"state": "Error", "error": "DataFileNotExist", "source_uri": "https://x/f.json", "job_id": "j"}
    judged = with_outcome(job)
    assert judged["outcome"] == "failed" and "DataFileNotExist" in judged["outcome_message"]
    assert judged["job_id"] == "j" and "outcome" not in job
