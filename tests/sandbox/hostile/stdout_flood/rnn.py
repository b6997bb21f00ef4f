import sys


def forward(params, X, Y, h0):
    line = "flood " * 1000 + "\n"
    for _ in range(5000):  # about 30 MB
        sys.stdout.write(line)
    sys.stderr.write("err " * 100000)
    return 1.0
