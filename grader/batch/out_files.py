"""The names of the files a class run keeps beside the students' results in its output folder: the
instructor's own (the mapping, the overrides, the late policy), read from there when the command line names
none, and the class files for the LMS and the similarity report. A module of its own so that the command
line names them in its help without importing the class run (a single grading never needs it)."""

OVERRIDES, LATE_POLICY, STUDENTS = "overrides.yaml", "late-policy.yaml", "students.csv"
SIMILARITY, CANVAS, MOODLE = "similarity.html", "canvas.csv", "moodle.csv"
