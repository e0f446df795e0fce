"""A Gradescope autograder bundle per assignment, and what its ``run_autograder`` runs in the container.

``autograder gradescope <id>`` writes ``<id>-gradescope.zip``: ``setup.sh`` (Gradescope runs it once
when it builds the image; choose the Ubuntu 24.04 base image, for Python 3.12), ``run_autograder`` (run
for every submission), the course package (``course/``), and ``course_root/``: the harness, this
assignment's graders and reference, and the released notebook (its autograded cells give the parts
and points; the source notebook, with its solutions, is not shipped). Gradescope unpacks the zip into
``/autograder/source/``, puts the student's upload in ``/autograder/submission/`` and reads
``/autograder/results/results.json``. ``$GRADESCOPE_ROOT`` stands in for ``/autograder`` in tests.

Which upload is graded: ``<id>.ipynb`` if there is one, else the most recently modified ``.ipynb``.

A part the harness could not grade (an internal error) is no 0 (``render.not_graded``). Gradescope's results.json
format makes a test's ``score`` optional when the top level has one, and ``status`` optional: such a row
carries neither (nor ``max_score``, which Gradescope would show as ``0.0 / max``), its output starts with
NOT GRADED, and ``extra_data.not_graded`` says so; the top-level ``score`` counts the parts that were graded,
and the top-level output tells the student that staff will regrade those parts. The run's log (stdout, staff
only) says to rerun the autograder on this submission.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import zipfile
from pathlib import Path

from .errors import HarnessError, UsageError
from .intake import FINGERPRINTS, fingerprints
from .layout import Course, harness_files

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (base image: Ubuntu 24.04).
set -euo pipefail
cd /autograder/source
export DEBIAN_FRONTEND=noninteractive
apt-get update && apt-get install -y --no-install-recommends python3 python3-venv python3-pip libseccomp2
python3 -m venv /autograder/venv
# CPU-only PyTorch wheels (the CUDA build is 6 GB and Gradescope's graders have no GPU)
/autograder/venv/bin/pip install --index-url https://download.pytorch.org/whl/cpu \\
    "torch>=2.11,<2.15" "torchvision>=0.26,<0.30"
/autograder/venv/bin/pip install numpy matplotlib tqdm scikit-learn pytest "pyseccomp>=0.1.2"
/autograder/venv/bin/pip install --no-deps ./course
# What the fork server builds once per installed torch and matplotlib (their font list, the ATen operator
# table), built now into the image, so that no submission's run pays for it
cd /autograder/source/course_root
AUTOGRADER_CACHE=/autograder/cache PYTHONPATH=/autograder/source/course_root /autograder/venv/bin/python \\
    -m autograder.gradescope warm
"""

RUN = """#!/usr/bin/env bash
# Gradescope runs this for every submission. GRADESCOPE_ROOT stands in for /autograder (tests); PYTHON for
# the interpreter setup.sh made. The harness is run from course_root/ and never installed, so that student
# code cannot import it.
set -u
ROOT="${GRADESCOPE_ROOT:-/autograder}"
PY="${PYTHON:-/autograder/venv/bin/python}"
[ -x "$PY" ] || PY=python3
cd "$ROOT/source/course_root"
export AUTOGRADER_CACHE="${AUTOGRADER_CACHE:-$ROOT/cache}"  # filled by setup.sh's warm step
PYTHONPATH="$ROOT/source/course_root" exec "$PY" -m autograder.gradescope run --root "$ROOT" \
    --assignment %(id)s%(options)s
"""


def _harness_files(course: Course, assignment_id: str) -> dict[str, Path]:
    """Bundle path -> file on disk, for everything the container needs besides the course package."""
    assignment = course.assignment(assignment_id)
    root = course.root
    files = {f"course_root/{name}": path for name, path in harness_files().items()}
    files.update({f"course_root/{name}": path for name, path in assignment.grading_files().items()})
    for p in sorted((root / "course").rglob("*")):
        skip = {"__pycache__", "build"} & set(p.parts) or any(part.endswith(".egg-info") for part in p.parts)
        if p.is_file() and not skip:
            files[f"course/{p.relative_to(root / 'course')}"] = p
    return files


def build_bundle(course: Course, assignment_id: str, out: Path, per_check: bool = False) -> Path:
    """Write the zip Gradescope's "Configure Autograder" page takes; returns its path."""
    if not course.assignment(assignment_id).release_notebook.is_file():
        raise UsageError(f"release/{assignment_id}/{assignment_id}.ipynb is missing: run `autograder release` first")
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in (("setup.sh", SETUP), ("run_autograder", RUN % {"id": assignment_id,
                                                                     "options": " --per-check" * per_check})):
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o100755 << 16  # executable, as Gradescope expects
            zf.writestr(info, text)
        for name, path in _harness_files(course, assignment_id).items():
            zf.write(path, name)
        prints = fingerprints(course.assignment(assignment_id))  # the master's digest, not the master
        if prints:
            zf.writestr(f"course_root/{FINGERPRINTS.format(id=assignment_id)}", json.dumps(prints))
    return out


def pick_upload(folder: Path, assignment_id: str) -> Path | None:
    notebooks = sorted(folder.rglob("*.ipynb")) if folder.is_dir() else []
    notebooks = [p for p in notebooks if ".ipynb_checkpoints" not in p.parts]
    named = [p for p in notebooks if p.name == f"{assignment_id}.ipynb"]
    if named:
        return named[0]
    return max(notebooks, key=lambda p: (p.lstat().st_mtime, p.name), default=None)  # a link: refused later


def _close_to_workers(root: Path) -> None:
    """The harness, graders, references and the upload: the grader's (root's) alone. Behind the private
    filesystem a worker never sees them; where a container refuses it (no CAP_SYS_ADMIN: Docker's default),
    the worker runs under its own uid on the host's folders, and the file modes are the wall that holds."""
    if os.getuid() != 0:
        return
    for folder in (root / "source", root / "submission"):
        try:
            os.chmod(folder, 0o700)
        except OSError:
            pass


def run(root: Path, assignment_id: str, device: str = "cpu", per_check: bool = False) -> int:
    """In the container: grade the upload, write results/results.json (and feedback beside it)."""
    results = root / "results"
    results.mkdir(parents=True, exist_ok=True)
    notebook = pick_upload(root / "submission", assignment_id)
    if notebook is None:
        (results / "results.json").write_text(json.dumps({
            "score": 0, "output": f"No notebook found in your submission: upload {assignment_id}.ipynb.",
            "tests": []}, indent=2))
        return 0
    from .launcher import Launcher, imports_without_gc, not_dumpable
    not_dumpable()
    _close_to_workers(root)
    launcher = Launcher()  # first, so that the fork server's `import torch` overlaps with ours (as cmd_grade)
    with imports_without_gc():
        from .grade import grade_submission
        from .render import terminal_summary
        from .writers import write_result_files
    course = Course.find(root / "source" / "course_root")
    with launcher:
        result = grade_submission(assignment_id, notebook, course=course, device=device, launcher=launcher,
                                  intake=root / "submission")
    print(terminal_summary(result))  # the run's log, which Gradescope shows staff only
    write_result_files(result, results_json=results / "results.json", feedback=results / "feedback.md",
                       per_check=per_check)
    if result.not_graded:
        print(f"STAFF: not graded (harness error): {', '.join(result.not_graded)}; fix the autograder, then "
              "rerun it on this submission (Gradescope: Regrade / Rerun Autograder)")
    return 2 if result.harness_errors else 0


def warm() -> int:
    """In setup.sh: start a fork server once, so that it fills the cache (``gradeworker.cache``) in the image."""
    from .launcher import Launcher
    with Launcher() as launcher:
        if launcher.forkserver is not None:
            launcher.forkserver.wait_ready()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.gradescope")
    parser.add_argument("command", choices=["run", "warm"])
    parser.add_argument("--root", type=Path, default=Path(os.environ.get("GRADESCOPE_ROOT", "/autograder")))
    parser.add_argument("--assignment", help="the assignment id (run needs it)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--per-check", action="store_true", help="a results.json row per check, not per part")
    args = parser.parse_args(argv)
    if args.command == "warm":
        return warm()
    if not args.assignment:
        parser.error("run needs --assignment")
    try:
        return run(args.root, args.assignment, args.device, args.per_check)
    except (UsageError, HarnessError) as exc:  # as `autograder grade` says it: a line on stderr, exit 2
        print(f"autograder: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)
