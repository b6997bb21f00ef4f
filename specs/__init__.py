"""Data package: the submission contract, the grading configuration and the default training text."""
