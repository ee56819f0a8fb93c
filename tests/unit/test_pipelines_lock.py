"""The build lock: exclusive across processes, released on exit and when its holder dies."""

import os
import signal
import subprocess
import sys
import time

import pytest

from pipelines.lib.lock import BuildBusy, build_lock, holder, lock_path

HOLD = r"""
import sys, time
from pathlib import Path
from pipelines.lib.lock import build_lock
with build_lock(Path(sys.argv[1]), 5, owner="other process"):
    print("locked", flush=True)
    time.sleep(60)
"""


@pytest.fixture
def other_holder(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline().strip() == "locked"
    yield process
    process.kill()
    process.wait()
    process.stdout.close()


def test_second_build_gives_up_after_waiting(tmp_path, other_holder):
    started = time.monotonic()
    with pytest.raises(BuildBusy, match="other process"), build_lock(tmp_path, 1.0):
        pass
    assert 1.0 <= time.monotonic() - started < 5


def test_lock_is_free_again_when_the_holder_dies(tmp_path, other_holder):
    os.kill(other_holder.pid, signal.SIGKILL)
    other_holder.wait()
    with build_lock(tmp_path, 2.0, owner="me"):
        assert holder(tmp_path)["owner"] == "me"


def test_lock_is_released_after_the_block(tmp_path):
    with build_lock(tmp_path, 0, owner="first"):
        assert lock_path(tmp_path).exists()
    with build_lock(tmp_path, 0, owner="second"):
        assert holder(tmp_path)["pid"] == os.getpid()
