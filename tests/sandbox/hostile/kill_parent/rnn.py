"""Tries to kill the grader (its parent) so that no failure gets recorded."""
import os
import signal


def forward(params, X, Y, h0):
    os.kill(os.getppid(), signal.SIGKILL)
    return "parent survived"
