# nbgrader settings for the course. `autograder release` (and `make demo`) run
# `nbgrader generate_assignment` with these; formgrader and the gradebook read them too.
import os

c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)
here = os.path.dirname(os.path.abspath(__file__))  # absolute: nbgrader warns about a relative root

c.CourseDirectory.course_id = "d2l"
c.CourseDirectory.root = here
# One id names a folder at every stage: source/<id>/<id>.ipynb -> release/<id>/<id>.ipynb.
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
# The gradebook lives beside this file and is not committed (see .gitignore).
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(here, "gradebook.db")
# What a student finds in place of each solution: the stub names no answer, only the task.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
# Released notebooks start clean: no outputs from the instructor's run.
c.ClearOutput.enabled = True

# `nbgrader autograde` grades with the hidden graders instead of executing the notebook (no demo cell runs):
# HiddenGraders writes each part's messages and score into its `test_<task>` cell, and nbgrader's own
# SaveAutoGrades records them in the gradebook, where manual grades and extra credit override them.
c.Autograde.autograde_preprocessors = [
    "autograder.gradebook.HiddenGraders",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.HiddenGraders.device = "auto"
c.HiddenGraders.seed = 0
# Students' feedback shows the autograded cells' outputs (our messages); the hidden graders live outside
# the notebook, so nothing of theirs is in it.

# The toolbar's Validate (and `nbgrader validate`) run the course's own check instead of nbgrader's Execute:
# the notebook runs as `python -m d2lcourse validate` runs it (a fresh Python process, demo cells skipped, no
# kernel and so none of its warnings), and each public test cell fails with its verdict alone (FAILED, NOT
# DONE or FORBIDDEN: a forbidden call never passes). See course/d2lcourse/nbvalidate.py.
try:
    from d2lcourse.nbvalidate import install as run_the_courses_check
except ImportError:  # the course package is not installed here: nbgrader's own Validate stays
    pass
else:
    run_the_courses_check()
