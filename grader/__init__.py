"""rnn-grader: grade character-level vanilla RNN submissions against a trusted reference."""

__version__ = "0.1.0"
