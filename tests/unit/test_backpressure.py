"""Ingest slots: bounded across processes, released on exit and on crash."""

import multiprocessing
import time

import pytest

from ingestion.backpressure import Busy, IngestSlots


def test_slots_bound_concurrent_work(tmp_path):
    slots = IngestSlots(tmp_path, 2)
    with slots.acquire(), slots.acquire(), pytest.raises(Busy) as busy, slots.acquire():
        pass
    assert busy.value.in_flight == 2 and busy.value.retry_after_s >= 1
    with slots.acquire() as index:
        assert index == 0


def _hold(directory, ready):
    slots = IngestSlots(directory, 1)
    with slots.acquire():
        ready.set()
        time.sleep(30)


def test_a_killed_process_releases_its_slot(tmp_path):
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    holder = context.Process(target=_hold, args=(tmp_path, ready))
    holder.start()
    assert ready.wait(20)
    with pytest.raises(Busy), IngestSlots(tmp_path, 1).acquire():
        pass
    holder.kill()
    holder.join()
    with IngestSlots(tmp_path, 1).acquire() as index:
        assert index == 0
