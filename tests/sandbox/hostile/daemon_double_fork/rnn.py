"""Leaves a daemon (setsid + double fork) that writes a file after the grading ends."""
import os
import time


def forward(path, delay):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            time.sleep(delay)
            with open(path, "w") as f:
                f.write("the daemon outlived the sandbox")
        os._exit(0)
    time.sleep(0.2)
    return True
