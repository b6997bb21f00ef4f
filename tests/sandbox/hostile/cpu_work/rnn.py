"""Calls that compute for a given CPU time, and one that waits: how long they take on the clock depends on
the machine's load, the CPU time they need does not."""
import time


def forward(seconds):
    start = time.process_time()
    while time.process_time() - start < seconds:
        pass
    return seconds


def init_params(seconds):
    time.sleep(seconds)
    return seconds
