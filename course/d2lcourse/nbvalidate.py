"""nbgrader's Validate (the toolbar's button, ``nbgrader validate``) running the course's own check.

``nbgrader_config.py`` calls :func:`install`: nbgrader's Validator then runs its metadata check, its output
clearing and :class:`PublicTests` instead of its ``Execute``. (``Validator.preprocessors`` is not a
configurable trait, so ``c.Validator.preprocessors = ...`` is ignored with a warning; ``install`` sets the
trait's default instead. The config file is read again at every validation, by the server's handler too.)

The notebook then runs as ``python -m d2lcourse validate`` runs it (one fresh Python process, demo cells
skipped, no Jupyter kernel and so none of its warnings), and each public test cell gets the outputs it gave
there. A test cell that did not pass ends in a ``PublicTestVerdict`` error whose traceback is the verdict
alone (FAILED, NOT DONE or FORBIDDEN), which is what nbgrader shows and counts as a failed cell: the button,
the cell and the command say the same.
"""
from __future__ import annotations

import os
from pathlib import Path

from nbconvert.preprocessors import Preprocessor
from nbformat import from_dict

from .submission_check import execute


class PublicTests(Preprocessor):
    """Run the notebook's non-demo cells in a fresh process and put each cell's outputs in place."""

    def preprocess(self, nb, resources):
        timeout = int(os.environ.get("D2L_VALIDATE_TIMEOUT", "600"))
        outputs, _ = execute(nb, Path(os.getcwd()), timeout=timeout)  # nbgrader runs us in the notebook's folder
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                cell.outputs = [from_dict(o) for o in outputs.get(index, [])]
        return nb, resources


def install() -> None:
    """Make nbgrader's Validator run :class:`PublicTests` in place of its kernel-based ``Execute``."""
    from nbgrader.preprocessors import CheckCellMetadata, ClearOutput
    from nbgrader.validator import Validator
    Validator.class_traits()["preprocessors"].default_value = [CheckCellMetadata, ClearOutput, PublicTests]
