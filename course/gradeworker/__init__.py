"""The student-side half of the grading protocol: a worker process that runs notebook code.

Kept apart from ``autograder`` (which holds the hidden tests) so that the worker's import path can
include this package without including anything a student must not see.
"""
