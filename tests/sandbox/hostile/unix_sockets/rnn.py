"""Not an attack: what a submission may do with Unix-domain sockets and the allowed packages, which the
network filter must leave working."""
import io
import multiprocessing
import multiprocessing.connection
import os
import socket
import tempfile

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import scipy.special


def square(x):
    return x * x


def socketpair_round_trip():
    left, right = socket.socketpair()
    with left, right:
        left.sendall(b"ping")
        return right.recv(4).decode()


def duplex_pipe_round_trip():
    here, there = multiprocessing.Pipe(duplex=True)  # a socketpair underneath
    there.send([1, 2, 3])
    return here.recv()


def pool_map():
    with multiprocessing.get_context("fork").Pool(2) as pool:
        return pool.map(square, [1, 2, 3, 4])


def listener_round_trip():
    """A listening AF_UNIX socket and a client, as managers and the forkserver use them."""
    address = os.path.join(tempfile.mkdtemp(), "listener")
    with multiprocessing.connection.Listener(address, family="AF_UNIX") as listener:
        child = multiprocessing.get_context("fork").Process(target=_client, args=(address,))
        child.start()
        with listener.accept() as connection:
            got = connection.recv()
        child.join()
    return got


def _client(address):
    with multiprocessing.connection.Client(address, family="AF_UNIX") as connection:
        connection.send("hello over AF_UNIX")


def allowed_packages():
    figure, axes = plt.subplots()
    axes.plot(np.arange(10) ** 2)
    png = io.BytesIO()
    figure.savefig(png, format="png")
    frame = pd.DataFrame({"v": [1.0, 2.0, 3.0]})
    return [png.getvalue()[:4] == b"\x89PNG", float(frame["v"].sum()), float(scipy.special.expit(0.0)),
            float(np.linalg.det(np.eye(3) * 2.0))]
