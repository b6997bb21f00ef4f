"""Tries to read installed files the grader gives it the paths of: other packages, the grader, the reference."""


def forward(paths):
    readable = []
    for path in paths:
        try:
            with open(path, "rb") as f:
                f.read(1)
            readable.append(path)
        except OSError:
            pass
    return readable


def import_names(names):
    imported = []
    for name in names:
        try:
            __import__(name)
            imported.append(name)
        except ImportError:
            pass
    return imported
