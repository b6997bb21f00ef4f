"""A submission's files, handled without trusting them: below everything that reads them.

``listing`` says which entries of an upload count (junk and zips by name, names made printable, a folder's
files within a submission's bounds); ``zipsafe`` opens a zip only after reading what its end declares;
``archive`` unpacks a zip within the same bounds; ``lms_names`` reads whose each file of an LMS download is
(Canvas's and Moodle's naming rules, names only); ``flat`` puts a student's flat files from an LMS download
together as the folder they uploaded. Intake, class
grading and the similarity report all read submissions through these, and through the sandbox's
scratch copy (grader.sandbox.scratch), which holds the bounds themselves; nothing here imports from them.
"""
