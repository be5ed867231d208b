# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import threading

import pytest

from ansible_collections.spo.user_profiles.plugins.module_utils.concurrency import AdaptiveLimit, run_bounded
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_http import FakeTime


def make(fake, **kwargs):
    return AdaptiveLimit(clock=fake.clock, sleep=fake.sleep, **kwargs)


def fill(limit):
    """Take every free place without waiting; the slots taken."""
    slots = []
    while True:
        slot = limit.acquire(blocking=False)
        if slot is None:
            return slots
        slots.append(slot)


def answer_round(limit, fake, latency=0.05):
    """Send as many requests as the limit allows, answer them all after `latency` seconds; how many were sent."""
    slots = fill(limit)
    fake.now += latency
    for slot in slots:
        limit.done(slot)
    return len(slots)


def test_starts_modestly_and_is_bounded_by_its_places():
    fake = FakeTime()
    limit = make(fake, ceiling=16, start=4)
    assert len(fill(limit)) == 4
    assert limit.acquire(blocking=False) is None
    assert limit.in_flight == 4


def test_the_start_never_exceeds_the_ceiling_and_the_floor_is_one():
    fake = FakeTime()
    assert make(fake, ceiling=2, start=4).limit == 2
    assert make(fake, ceiling=0, start=0).limit == 1


def test_grows_while_requests_succeed_doubling_then_by_one_after_the_first_throttle():
    fake = FakeTime()
    limit = make(fake, ceiling=40, start=4)
    assert [answer_round(limit, fake) for _round in range(3)] == [4, 8, 16]
    assert limit.limit == 32
    slots = fill(limit)
    limit.throttled(slots[0])
    for slot in slots[1:]:
        limit.done(slot)  # sent before the cut: they neither grow the limit nor count toward the new round
    assert limit.limit == 16
    assert [answer_round(limit, fake) for _round in range(3)] == [16, 17, 18]
    assert limit.limit == 19


def test_after_a_throttle_it_climbs_back_below_that_limit_and_tries_it_ever_more_rarely():
    fake = FakeTime()
    limit = make(fake, ceiling=64, start=12)
    limit.throttled(limit.acquire())  # throttled at 12
    assert limit.limit == 6
    sizes = [answer_round(limit, fake) for _round in range(5 + 8)]
    assert sizes == [6, 7, 8, 9, 10] + [11] * 8  # back to 11, then 8 good rounds there
    assert limit.limit == 12  # the try
    slots = fill(limit)
    limit.throttled(slots[0])  # throttled again at 12: the next try waits twice as long
    for slot in slots[1:]:
        limit.done(slot)
    assert limit.limit == 6
    sizes = [answer_round(limit, fake) for _round in range(5 + 16)]
    assert sizes == [6, 7, 8, 9, 10] + [11] * 16
    assert limit.limit == 12


def test_a_try_that_holds_makes_the_next_level_the_one_to_try():
    fake = FakeTime()
    limit = make(fake, ceiling=64, start=4)
    limit.throttled(limit.acquire())  # throttled at 4
    assert limit.limit == 2
    assert [answer_round(limit, fake) for _round in range(9)] == [2] + [3] * 8
    assert limit.limit == 4  # the try
    # It held: 5 is tried the same way, after 8 good rounds at 4, and so on up.
    assert [answer_round(limit, fake) for _round in range(1 + 8)] == [4] * 9
    assert limit.limit == 5
    assert [answer_round(limit, fake) for _round in range(1 + 8)] == [5] * 9
    assert limit.limit == 6


def test_a_throttle_just_below_the_level_remembered_makes_the_tries_rarer():
    fake = FakeTime()
    limit = make(fake, ceiling=64, start=4)
    limit.throttled(limit.acquire())  # throttled at 4
    assert [answer_round(limit, fake) for _round in range(9)] == [2] + [3] * 8
    assert answer_round(limit, fake) == 4  # the try held: 5 is the level to try now
    slots = fill(limit)
    fake.now += 0.05
    limit.throttled(slots[0])  # but 4, just below it, is throttled: the tenant's limit is here
    for slot in slots[1:]:
        limit.done(slot)
    assert limit.limit == 2
    assert [answer_round(limit, fake) for _round in range(1 + 16)] == [2] + [3] * 16  # twice as many rounds
    assert limit.limit == 4


def test_growth_stops_at_the_ceiling():
    fake = FakeTime()
    limit = make(fake, ceiling=10, start=4)
    for _round in range(6):
        answer_round(limit, fake)
    assert limit.limit == 10
    assert limit.stats()["peak"] == 10


def test_growth_holds_when_latency_rises():
    fake = FakeTime()
    limit = make(fake, ceiling=64, start=4, latency_tolerance=2.0)
    answer_round(limit, fake, latency=0.05)
    assert limit.limit == 8
    answer_round(limit, fake, latency=0.25)  # five times slower: the service is loaded
    assert limit.limit == 8
    answer_round(limit, fake, latency=0.06)  # latency is back: grow again, by one now
    assert limit.limit == 9


def test_backs_off_by_half_once_per_round_of_requests():
    fake = FakeTime()
    limit = make(fake, ceiling=16, start=16)
    slots = fill(limit)
    for slot in slots[:5]:
        limit.throttled(slot)  # five answers to requests sent together: one cut
    assert limit.limit == 8
    for slot in slots[5:]:
        limit.done(slot)
    next_round = fill(limit)
    limit.throttled(next_round[0])
    assert limit.limit == 4
    assert limit.stats()["throttled"] == 6


def test_never_below_one():
    fake = FakeTime()
    limit = make(fake, ceiling=4, start=1)
    for _try in range(3):
        limit.throttled(limit.acquire())
    assert limit.limit == 1
    assert limit.acquire(blocking=False) is not None


def test_retry_after_pauses_every_worker_until_it_has_passed():
    fake = FakeTime()
    limit = make(fake, ceiling=8, start=8)
    first, second = limit.acquire(), limit.acquire()
    limit.throttled(first, retry_after=5)
    # Another worker that wants to send now waits the whole Retry-After, though places are free.
    assert limit.acquire(blocking=False) is None
    fake.now += 2
    limit.done(second)
    slot = limit.acquire()
    assert fake.sleeps == [3]
    assert fake.now == 1005
    assert slot is not None
    assert limit.stats()["paused_seconds"] == 5


def test_a_later_retry_after_extends_the_pause_and_an_earlier_one_does_not_shorten_it():
    fake = FakeTime()
    limit = make(fake, ceiling=8, start=8)
    slots = fill(limit)
    limit.throttled(slots[0], retry_after=10)
    limit.throttled(slots[1], retry_after=2)
    fake.now += 4
    limit.throttled(slots[2], retry_after=10)
    for slot in slots[3:]:
        limit.done(slot)
    limit.acquire()
    assert fake.now == 1014
    assert limit.stats()["paused_seconds"] == 14


def test_after_a_pause_at_most_the_halved_limit_starts_together():
    fake = FakeTime()
    limit = make(fake, ceiling=12, start=12)
    slots = fill(limit)
    limit.throttled(slots[0], retry_after=1)
    for slot in slots[1:]:
        limit.done(slot)
    limit.acquire()
    assert fake.sleeps == [1]
    assert len(fill(limit)) == 5  # 6 in flight with the first: no thundering herd


def test_a_request_without_answer_frees_its_place_and_teaches_nothing():
    fake = FakeTime()
    limit = make(fake, ceiling=8, start=2)
    slots = fill(limit)
    for slot in slots:
        limit.abandon(slot)
    assert limit.in_flight == 0
    assert limit.limit == 2


def test_workers_never_exceed_the_limit():
    limit = AdaptiveLimit(ceiling=3, start=3)
    lock = threading.Lock()
    state = {"now": 0, "max": 0}

    def work(_item):
        slot = limit.acquire()
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        with lock:
            state["now"] -= 1
        limit.abandon(slot)
        return True

    results = list(run_bounded(work, range(200), workers=8))
    assert len(results) == 200
    assert state["max"] <= 3


def test_run_bounded_takes_items_only_as_workers_free_up():
    taken = []

    def items():
        for number in range(100):
            taken.append(number)
            yield number

    run = run_bounded(lambda item: item * 2, items(), workers=4)
    assert taken == []  # nothing is read before the first result is asked for
    first = next(run)
    assert len(taken) == 4  # one item per worker, no more, until the consumer takes a result
    results = [first] + list(run)
    assert sorted(item for item, _result in results) == list(range(100))
    assert all(result == item * 2 for item, result in results)


def test_run_bounded_stops_starting_calls_after_an_exception_and_still_yields_the_calls_under_way():
    started = []
    failing_started = threading.Event()
    others_may_end = threading.Event()

    def work(item):
        started.append(item)
        if item == 3:
            failing_started.set()
            raise ValueError("boom")
        if item > 3:
            failing_started.wait(5)  # calls that run beside the failing one end after it
            others_may_end.wait(0.5)
        return item

    yielded = []
    with pytest.raises(ValueError):
        for item, result in run_bounded(work, range(1000), workers=3):
            yielded.append(item)
    assert len(started) < 10
    # Every call that started and did not fail was yielded, also those that ended after the failure.
    assert sorted(yielded) == sorted(item for item in started if item != 3)
