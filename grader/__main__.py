import gc

from grader.cli import main

status = main()
# All that is left is the interpreter's exit, whose garbage collections would walk every object a grading made
# (numpy, Hypothesis, the results: 0.1 s of CPU, 0.2-0.6 s of wall under load) to free nothing that matters;
# frozen, they are skipped. Exit handlers still run.
gc.freeze()
raise SystemExit(status)
