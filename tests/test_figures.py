"""Every released notebook carries its figures (figures/draw.py): each declared figure is a PNG attachment
of a markdown cell that shows it, with its caption in Chinese and English, and it decodes as an image.
That they render in a browser is checked in tests/test_browser.py."""
from __future__ import annotations

import base64
import io
import json
import sys

import pytest

from helpers import ROOT, assignment_ids

sys.path.insert(0, str(ROOT / "figures"))
import draw  # noqa: E402

# Assignments that have no figure yet, and why; an assignment leaves this list with its first @figure function.
NO_FIGURE_YET: dict[str, str] = {}


def test_does_every_assignment_have_figures():
    missing = set(assignment_ids()) - {f.assignment for f in draw.FIGURES} - set(NO_FIGURE_YET)
    assert not missing, f"{sorted(missing)} have no figure: add a @figure function to figures/draw.py"


@pytest.mark.parametrize("assignment_id", assignment_ids())
def test_does_the_released_notebook_carry_its_figures(assignment_id):
    from PIL import Image
    nb = json.loads((ROOT / "release" / assignment_id / f"{assignment_id}.ipynb").read_text(encoding="utf-8"))
    cells = {c["metadata"]["d2lcourse"]["figure"]: c for c in nb["cells"]
             if "figure" in c.get("metadata", {}).get("d2lcourse", {})}
    for spec in (f for f in draw.FIGURES if f.assignment == assignment_id):
        cell = cells.get(spec.name)
        assert cell is not None, f"{spec.name} is not in the release: run figures/draw.py and autograder release"
        text = "".join(cell["source"])
        assert f"(attachment:{spec.name}.png)" in text and spec.zh in text and spec.en in text
        png = base64.b64decode(cell["attachments"][f"{spec.name}.png"]["image/png"])
        with Image.open(io.BytesIO(png)) as image:
            assert image.format == "PNG" and image.width >= 200 and image.height >= 100, image.size
