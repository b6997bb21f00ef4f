import numpy as np


def object_array():
    return np.array([1, "two", None], dtype=object)


def int_keys():
    return {1: np.zeros(2)}


def complex_array():
    return np.zeros(3, dtype=complex)


def generator():
    return (x for x in range(3))


def cyclic():
    a = []
    a.append(a)
    return a
