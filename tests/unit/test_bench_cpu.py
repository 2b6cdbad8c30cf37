"""The benchmark's CPU meter: counts a process tree's CPU (live and ended children included, as
Triton's backend stubs are children of tritonserver), not idle time."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from bench.cpu import CpuMeter

BURN = "import time\nend = time.process_time() + 0.4\nwhile time.process_time() < end: pass\n"
BURN_AND_STAY = BURN + "time.sleep(30)\n"
START = "import subprocess, sys, time\ntime.sleep(0.3)\n"
PARENTS = {
    # The child burns 0.4 s and ends; the parent waits for it (its time moves to the parent's).
    "ended child": START + f"subprocess.run([sys.executable, '-c', {BURN!r}])\n",
    # The child burns 0.4 s and stays alive.
    "live child": START + f"subprocess.Popen([sys.executable, '-c', {BURN_AND_STAY!r}])\n",
}


@pytest.mark.parametrize("shape", sorted(PARENTS))
def test_meter_counts_the_cpu_of_a_process_tree_but_not_sleep(shape: str) -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENTS[shape] + "time.sleep(30)\n"], start_new_session=True)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        meter = CpuMeter({"busy tree": parent.pid, "sleeper": sleeper.pid})
        time.sleep(0.2)  # past the interpreters' start-up
        with meter.during():
            time.sleep(2.0)
        assert meter.seconds["busy tree"] >= 0.35, meter.seconds
        assert meter.seconds["sleeper"] < 0.1, meter.seconds
        assert meter.per_call_ms(4)["busy tree"] == round(1000 * meter.seconds["busy tree"] / 4, 2)
    finally:
        subprocess.run(["pkill", "-KILL", "-s", str(parent.pid)], check=False)
        sleeper.kill()
