class Hangs(Exception):
    def __str__(self):
        while True:
            pass


class Breaks(Exception):
    def __str__(self):
        raise RuntimeError("no message for you")


def forward(params, X, Y, h0):
    raise Hangs()


def compute_gradients(params, X, Y, h0):
    raise Breaks()
