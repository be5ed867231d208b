# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.spo.user_profiles.plugins.module_utils.backoff import Backoff
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_http import FakeTime


def make(fake, **kwargs):
    return Backoff(clock=fake.clock, sleep=fake.sleep, **kwargs)


def test_steps_grow_to_the_cap():
    backoff = make(FakeTime(), start=10, growth=1.5, cap=40)
    assert [backoff.next_delay() for _step in range(7)] == [10, 15, 22.5, 33.75, 40, 40, 40]


def test_without_growth_every_wait_is_the_same():
    fake = FakeTime()
    backoff = make(fake, start=5)
    assert all(backoff.wait() for _step in range(3))
    assert fake.sleeps == [5, 5, 5]


def test_jitter_shortens_each_wait_by_up_to_its_fraction():
    draws = iter([0.0, 0.5, 1.0])
    backoff = Backoff(1.0, growth=2.0, cap=300, jitter=0.5, rand=lambda: next(draws))
    assert [backoff.next_delay() for _step in range(3)] == [0.5, 1.5, 4.0]


def test_a_retry_after_replaces_the_wait_and_the_schedule_still_moves_on():
    backoff = Backoff(1.0, growth=2.0, jitter=0.5, rand=lambda: 1.0)
    assert backoff.next_delay(instead=7.0) == 7.0
    assert backoff.next_delay() == 2.0


def test_no_wait_ends_after_the_deadline():
    fake = FakeTime()
    backoff = make(fake, start=15, growth=1.5, deadline=60)
    while backoff.wait():
        pass
    assert fake.sleeps == [15, 22.5, 60 - 15 - 22.5]
    assert backoff.elapsed() == 60 and backoff.remaining() == 0
    assert backoff.fits(0) and not backoff.fits(0.1)


def test_fits_tells_whether_a_wait_ends_by_the_deadline():
    fake = FakeTime()
    backoff = make(fake, start=1, deadline=60)
    assert backoff.fits(60) and not backoff.fits(61)
    backoff.sleep(40)
    assert fake.sleeps == [40] and backoff.fits(20) and not backoff.fits(21)
    assert make(fake, start=1).fits(10 ** 9), "without a deadline every wait fits"
