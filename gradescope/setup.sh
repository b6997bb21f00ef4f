#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image. The uploaded zip is
# unpacked in /autograder/source: this repository with setup.sh and run_autograder at its top level.
set -euo pipefail

SOURCE=/autograder/source
VENV=/autograder/venv

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# bubblewrap gives the sandbox its strongest tier. Where the container does not allow it, the grader
# (root) runs submissions as an unprivileged uid instead, which is safe only if that uid cannot read the
# grader's files: the chmod at the end arranges it. With neither, the grader refuses to run submissions.
apt-get install -y -qq --no-install-recommends bubblewrap python3 python3-venv python3-pip

# The grader needs Python 3.11 or newer: Gradescope's Ubuntu 24.04 base image has 3.12.
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "rnn-grader needs Python 3.11 or newer, but python3 is $(python3 --version 2>&1)." >&2
    echo "Choose the Ubuntu 24.04 (or newer) base image in the autograder settings." >&2
    exit 1
fi

# A virtual environment of its own: Ubuntu's system Python refuses pip installs (PEP 668).
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --upgrade pip
"$VENV/bin/pip" install --quiet "$SOURCE"
"$VENV/bin/python" -m grader --version

# The course secret decides which cases are graded; every container of this image must share it. Use the
# course's own (added to the zip as specs/course-secret) to grade the same cases as your own runs, else
# make one for this image.
SPECS="$("$VENV/bin/python" -c 'from grader.contract import default_spec_dir; print(default_spec_dir())')"
if [ -f "$SOURCE/specs/course-secret" ]; then
    install -m 600 "$SOURCE/specs/course-secret" "$SPECS/course-secret"
fi
"$VENV/bin/python" -m grader secret

# The sandbox's unprivileged-user tier: other uids may use the interpreter and the allowed packages,
# never the grader, the reference solution, the course's spec or this source folder.
SITE="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
chmod -R o-rwx "$SOURCE" "$SITE/grader" "$SITE/reference" "$SITE/specs"
"$VENV/bin/python" -c 'from grader.sandbox import available_tiers; print("sandbox tiers here:", available_tiers())'
