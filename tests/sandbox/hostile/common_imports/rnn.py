"""What most students write at the top of rnn.py: every allowed package, a plot and plt.show()."""
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import scipy.special
from tqdm import tqdm


def forward(values):
    total = 0.0
    for v in tqdm(values):
        total += float(scipy.special.expit(v))
    plt.plot(values)
    plt.show()  # harmless: a backend that draws into memory
    frame = pd.DataFrame({"v": values})
    return [total, float(frame["v"].sum()), float(np.sum(values)), plt.get_backend()]
