def forward(params, X, Y, h0):
    x = 0
    while True:
        x += 1
