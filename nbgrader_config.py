# nbgrader settings for the course. `autograder release` (and `make demo`) run
# `nbgrader generate_assignment` with these; formgrader and the gradebook read them too.
c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = "d2l"
c.CourseDirectory.root = "."
# One id names a folder at every stage: source/<id>/<id>.ipynb -> release/<id>/<id>.ipynb.
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
# The gradebook lives beside this file and is not committed (see .gitignore).
c.CourseDirectory.db_url = "sqlite:///gradebook.db"
# What a student finds in place of each solution: the stub names no answer, only the task.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
# Released notebooks start clean: no outputs from the instructor's run.
c.ClearOutput.enabled = True
