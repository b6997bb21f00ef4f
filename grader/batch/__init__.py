"""Grading a whole class folder: in parallel (or on a Dask cluster), resumable, with class-level outputs.

    grader.batch.run.grade_class(folder, out_dir, assignment, ClassSettings(jobs=..., force=..., dask_address=...))

writes out_dir/<name>/{results.json, report.html} per submission and out_dir/{grades.csv, summary.json,
index.html}. Modules: discover (which entries, what names), keys (what makes a result reusable), task (one
submission in a worker), grading_process (the process a task runs in, which dies with the grader), local /
cluster (running tasks), store (the output folder), stats (the class numbers), progress, run (ClassRun: all
of it together, stage by stage), out_files (the names of the class files).

The package itself imports nothing: a grading process (grading_process, task) and the command line's
single grading do not pay for the class run's modules.
"""
