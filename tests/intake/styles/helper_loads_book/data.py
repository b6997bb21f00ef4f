"""Data loading for assignment 4."""
import numpy as np

book_data = open("goblet_book.txt", encoding="utf-8").read()
book_chars = sorted(set(book_data))
char_to_ind = {c: i for i, c in enumerate(book_chars)}
ind_to_char = {i: c for c, i in char_to_ind.items()}


def one_hot(indices, K):
    X = np.zeros((K, len(indices)))
    X[indices, np.arange(len(indices))] = 1.0
    return X
