"""Burns its CPU time in children the kernel reaps (SIGCHLD ignored), so that no parent's count holds it, while
the worker itself sleeps: judged on the worker's process tree, the call looked idle or starved."""
import os
import signal
import time


def burn(seconds):
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def forward(children, each):
    """`children` children one after another, each burning `each` seconds of CPU: children * each in all."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    for _ in range(children):
        pid = os.fork()
        if pid == 0:
            burn(each)
            os._exit(0)
        while True:  # no wait(): the kernel reaps the child, and its CPU time with it
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.01)
    return children * each
