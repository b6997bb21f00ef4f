import os


def forward(params, X, Y, h0):
    block = b"x" * (1 << 20)
    with open("filler.bin", "wb") as f:
        for _ in range(200):  # 200 MiB at most
            f.write(block)
            f.flush()
    return os.path.getsize("filler.bin")
