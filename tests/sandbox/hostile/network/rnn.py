import socket


def forward(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as s:
            s.sendall(b"stolen data")
        return "connected"
    except OSError as exc:
        return f"refused: {type(exc).__name__}"
