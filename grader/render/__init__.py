"""The grading outputs, one module per output, each drawn only from the results model (grader.results).

Per submission: terminal (the printed summary), gradescope (results.json), html (report.html, whose loss
plot svgplot draws). summary groups checks by function for them.
"""

# Written into every results.json (extra_data.generator) and report.html (<meta name="generator">):
# grader.outputs replaces only files that carry it.
GENERATOR = "rnn-grader"
