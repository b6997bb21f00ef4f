"""Forks as many sleeping children as it can (bounded at 200 so a failed defence is safe)."""
import os
import time


def forward(params, X, Y, h0):
    started = 0
    for _ in range(200):
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            time.sleep(30)
            os._exit(0)
        started += 1
    return started
