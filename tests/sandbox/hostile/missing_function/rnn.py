def forward(params, X, Y, h0):
    return 0.0


init_params = 42
