"""The trusted reference solution of the submission contract."""
