"""The LMS side of a class: who each submission belongs to, and gradebooks an LMS imports.

    identity: the student behind a submission, from the names LMS exports give (Canvas, Moodle,
        Gradescope's export) or a mapping file
    canvas: a gradebook CSV for Canvas's import, matched against an exported Canvas gradebook if given
    moodle: Moodle's grading worksheet: who each participant is, and who is in each team a team download names
"""
