"""The hidden-input leak of issue 22: one sandbox stores what it was sent in its uid's user keyring, which the
kernel keeps after the sandbox is gone, and a later sandbox of the same uid reads it back."""
import ctypes
import os

NUMBERS = {"x86_64": (248, 250), "aarch64": (217, 219)}  # add_key, keyctl
ADD_KEY, KEYCTL = NUMBERS[os.uname().machine]
KEY_SPEC_USER_KEYRING = -4
KEY_SPEC_SESSION_KEYRING = -3
KEYCTL_SEARCH = 10
KEYCTL_READ = 11
libc = ctypes.CDLL(None, use_errno=True)


def failed(result):
    return os.strerror(ctypes.get_errno()) if result == -1 else None


def store(secret):
    """Put `secret` in the user and the session keyring; each keyring's result: the key's id or the error."""
    data = secret.encode()
    found = {}
    for name, keyring in (("user", KEY_SPEC_USER_KEYRING), ("session", KEY_SPEC_SESSION_KEYRING)):
        key = libc.syscall(ADD_KEY, b"user", b"rnn-grader-hidden", data, len(data), keyring)
        found[name] = failed(key) or "stored"
    return found


def fetch():
    """What a key stored before holds, or why it could not be read."""
    key = libc.syscall(KEYCTL, KEYCTL_SEARCH, KEY_SPEC_USER_KEYRING, b"user", b"rnn-grader-hidden", 0)
    if failed(key):
        return "not found: " + failed(key)
    buffer = ctypes.create_string_buffer(4096)
    size = libc.syscall(KEYCTL, KEYCTL_READ, key, buffer, len(buffer))
    if failed(size):
        return "not read: " + failed(size)
    return buffer.raw[:size].decode()


def forget():
    """Remove the key again where the filter let it be stored (the plain tier's uid is the grader's own)."""
    key = libc.syscall(KEYCTL, KEYCTL_SEARCH, KEY_SPEC_USER_KEYRING, b"user", b"rnn-grader-hidden", 0)
    if key != -1:
        libc.syscall(KEYCTL, 21, key)  # KEYCTL_INVALIDATE
    return True
