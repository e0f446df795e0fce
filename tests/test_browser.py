"""In a real browser: a student's JupyterLab, and a TA's formgrader showing the hidden graders' scores.

Playwright drives Debian's chromium (``apt-get install chromium``; no browser is downloaded). A
JupyterLab server is started on 127.0.0.1 with a token in a temporary course folder: hw2 released
into its gradebook, one example submission graded by the hidden graders, and a student's copy of the
released notebook. Screenshots go to ``build/screenshots/``.
"""
from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from helpers import ROOT, assignment_ids
from payloads import FLAG_PREFIX, STUDENT_IDS, hostile_graded_folder

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "build" / "screenshots"
HW2 = "hw2_softmax_regression"
TA_EXAMPLE = "wrong_known_mistakes"
ATTACK = ROOT / "tests" / "submissions" / HW2 / "attack_payloads.ipynb"
ATTACKER = "attacker"  # a hostile id is refused by the gradebook (formgrader shows ids as HTML): see test_safe_outputs
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--no-first-run", "--disable-sync"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no chromium at /usr/bin/chromium (apt-get install -y chromium)"),
]


def _playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install playwright; it is in the staff extra)")
    return sync_playwright


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A graded hw2 course folder served by JupyterLab (formgrader included); yields (base url, token, root)."""
    sync_playwright = _playwright()  # skip before any setup when playwright is absent
    from test_gradebook import EXAMPLES, make_course

    from autograder.grade import grade_submission
    from autograder.gradebook import record
    from autograder.layout import Course
    from autograder.release import release
    root = make_course(tmp_path_factory.mktemp("browser") / "course", HW2)
    course = Course(root.resolve())
    release(course, HW2)
    result = grade_submission(HW2, EXAMPLES / f"{TA_EXAMPLE}.ipynb", course=course, device="cpu", student=TA_EXAMPLE)
    record(course, HW2, TA_EXAMPLE, EXAMPLES / f"{TA_EXAMPLE}.ipynb", result)
    # the hostile example (tests/payloads.py): what test_no_payload_runs_* open
    attack = grade_submission(HW2, ATTACK, course=course, device="cpu", student=ATTACKER)
    record(course, HW2, ATTACKER, ATTACK, attack)
    work = root / "work"
    work.mkdir()
    shutil.copy(course.assignment(HW2).release_notebook, work / f"{HW2}.ipynb")
    for aid in assignment_ids():  # every released notebook in its own folder, as released (forbidden.json beside)
        shutil.copytree(ROOT / "release" / aid, work / aid)
    # every cell rendered at once (JupyterLab renders off-screen cells lazily by default): the tests read cells
    # by their text and wait for every figure to load
    settings = root / ".jupyter" / "lab" / "user-settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}', encoding="utf-8")
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
           "JUPYTER_CONFIG_DIR": str(root / ".jupyter"),
           "JUPYTERLAB_SETTINGS_DIR": str(root / ".jupyter" / "lab" / "user-settings"),
           "D2L_DATA_ROOT": str(root / "no-data"),
           "TQDM_DISABLE": "1", "MPLBACKEND": "Agg"}
    log = open(root / "jupyter.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1",
                             f"--port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
                             "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                             *(["--allow-root"] if os.getuid() == 0 else [])],
                            cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5)
                break
            except OSError as exc:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log_tail = (root / "jupyter.log").read_text()[-3000:]
                    raise RuntimeError(f"jupyter lab did not start:\n{log_tail}") from exc
                time.sleep(0.5)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
            yield {"base": base, "token": token, "course": course, "result": result, "browser": browser,
                   "attack": attack}
            browser.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _shot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


SOFTMAX = ("def softmax(X):\n"
           "    X_exp = torch.exp(X - X.max(dim=1, keepdim=True).values)\n"
           "    return X_exp / X_exp.sum(dim=1, keepdim=True)\n")


def test_does_a_student_see_a_filled_in_function_pass_its_public_test(server):
    page = server["browser"].new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{server['base']}/lab/tree/work/{HW2}.ipynb?token={server['token']}")
    cells = page.locator(".jp-Notebook .jp-Cell")
    cells.nth(4).wait_for(timeout=60_000)
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(timeout=60_000)
    at = _index_of(cells, "Public tests for softmax")
    solution = cells.nth(at - 1)
    assert "raise NotImplementedError" in solution.inner_text()
    solution.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(SOFTMAX)  # as typed text, without the editor's auto-indent
    page.keyboard.press("Escape")
    cells.nth(0).click()
    for _ in range(at + 1):  # run every cell down to softmax's public test, as a student does
        page.keyboard.press("Shift+Enter")
    test_cell = cells.nth(at)
    test_cell.locator(".jp-OutputArea-output", has_text="public tests passed").wait_for(timeout=90_000)
    test_cell.scroll_into_view_if_needed()
    shot = _shot(page, "student_softmax_public_test_passes")
    output = test_cell.locator(".jp-OutputArea").inner_text()
    assert "PASS      softmax: public tests passed" in output
    assert "Error" not in output and "Warning" not in output
    assert shot.stat().st_size > 10_000
    page.close()


def test_does_a_ta_see_the_hidden_graders_scores_in_formgrader(server):
    from nbgrader.api import Gradebook

    from autograder.gradebook import coursedir
    cd = coursedir(server["course"])
    with Gradebook(cd.db_url, cd.course_id) as gb:
        submission_id = gb.find_submission_notebook(HW2, HW2, TA_EXAMPLE).id
    result = server["result"]
    # formgrader's pages fetch their data from its API: the token goes with every request, as a header
    page = server["browser"].new_page(viewport={"width": 1400, "height": 1000},
                                      extra_http_headers={"Authorization": f"token {server['token']}"})
    page.goto(f"{server['base']}/formgrader/gradebook/{HW2}/{HW2}?token={server['token']}")
    totals = page.locator("tbody td.score")  # formgrader hides names: the TA example's row and the attacker's
    try:
        totals.first.wait_for(timeout=60_000)
    except Exception as exc:
        _shot(page, "formgrader_gradebook_hw2_failed")
        api = page.request.get(f"{server['base']}/formgrader/api/submitted_notebooks/{HW2}/{HW2}")
        raise AssertionError(f"no submission row in formgrader's gradebook at {page.url}: "
                             f"{api.status} {api.text()[:2000]}") from exc
    _shot(page, "formgrader_gradebook_hw2")
    shown = sorted(t.strip() for t in totals.all_inner_texts())
    expected = sorted(f"{r.score:g} / {r.max_score:g}" for r in (result, server["attack"]))
    assert shown == expected  # the hidden graders' totals

    page.goto(f"{server['base']}/formgrader/submissions/{submission_id}/?token={server['token']}")
    first = next(iter(result.task_scores()))
    # formgrader shows the auto score as the score box's placeholder; a manual score would be its value
    page.wait_for_function(f"document.querySelector('input.score#{first}') && "
                           f"document.querySelector('input.score#{first}').placeholder !== ''", timeout=60_000)
    text = page.locator("body").inner_text()
    page.locator(f"input.score#{first}").scroll_into_view_if_needed()
    _shot(page, "formgrader_submission_per_part_scores")
    for cell_id, (got, most) in result.task_scores().items():
        box = page.locator(f"input.score#{cell_id}")
        assert float(box.get_attribute("placeholder")) == pytest.approx(got) and box.input_value() == "", cell_id
        assert f"Hidden graders: {got:g} / {most:g} points" in text, cell_id
    page.close()


# ----- no payload runs on any page a TA opens (tests/payloads.py) -------------------------------------
RAN = f"Object.keys(window).filter(k => k.startsWith('{FLAG_PREFIX}'))"
ACTIVE = """() => ({
  links: [...document.querySelectorAll('[href],[src],[data],[action],[formaction]')].map(
      e => e.getAttribute('href') || e.getAttribute('src') || e.getAttribute('data') || '').filter(
      u => /^\\s*(javascript|vbscript|data:text)/i.test(u)),
  handlers: [...document.querySelectorAll('*')].flatMap(e => [...e.attributes]).filter(
      a => a.name.startsWith('on') && a.value.includes('xss')).map(a => a.name),  // formgrader has its own
  css: getComputedStyle(document.body).getPropertyValue('--xss-css'),
  inline: document.querySelectorAll('[style*="--xss-inline"]').length,
})"""


def _nothing_ran(page, where: str) -> None:
    page.wait_for_timeout(1500)  # onerror, onload and ontoggle fire as soon as the page has laid out
    for link in page.locator("a").all():  # clicking is what a TA would do with a link; none may run anything
        href = (link.get_attribute("href") or "").strip().lower()
        if href.startswith(("javascript:", "vbscript:")) and link.is_visible():
            link.click(no_wait_after=True, timeout=2_000)
    assert page.evaluate(RAN) == [], f"a payload ran in {where}"
    active = page.evaluate(ACTIVE)
    assert active == {"links": [], "handlers": [], "css": "", "inline": 0}, (where, active)


def test_no_payload_runs_in_formgrader_for_the_hostile_submission(server):
    from nbgrader.api import Gradebook

    from autograder.gradebook import coursedir
    cd = coursedir(server["course"])
    with Gradebook(cd.db_url, cd.course_id) as gb:
        submission_id = gb.find_submission_notebook(HW2, HW2, ATTACKER).id
    page = server["browser"].new_page(viewport={"width": 1400, "height": 1000},
                                      extra_http_headers={"Authorization": f"token {server['token']}"})
    page.goto(f"{server['base']}/formgrader/submissions/{submission_id}/?token={server['token']}")
    first = next(iter(server["attack"].task_scores()))
    page.wait_for_function(f"document.querySelector('input.score#{first}') && "
                           f"document.querySelector('input.score#{first}').placeholder !== ''", timeout=60_000)
    text = page.locator("body").inner_text()
    assert "My notes" in text and "cross_entropy raised RuntimeError" in text  # the hostile cells are shown
    _shot(page, "formgrader_hostile_submission")
    _nothing_ran(page, "formgrader's submission page")
    for where in ("manage_students", f"manage_submissions/{HW2}", f"gradebook/{HW2}/{HW2}"):
        page.goto(f"{server['base']}/formgrader/{where}?token={server['token']}")
        page.wait_for_load_state("networkidle")
        _nothing_ran(page, f"formgrader's {where}")
    page.close()


def test_no_payload_runs_in_the_feedback_page_or_the_class_report(server, tmp_path):
    from autograder.cli import main
    graded = hostile_graded_folder(tmp_path / "graded", server["attack"], ATTACK,
                                   server["course"].assignment(HW2).release_notebook)
    assert main(["report", HW2, str(graded), "--course-root", str(ROOT)]) == 0
    pages = [graded / HW2 / STUDENT_IDS["markup"] / "feedback.html", graded / HW2 / "report.html"]
    for path in list(pages):  # the same pages without their Content-Security-Policy: the escaping alone holds
        bare = path.with_name(f"no-csp-{path.name}")
        bare.write_text(path.read_text(encoding="utf-8").replace("Content-Security-Policy", "x-no-policy"),
                        encoding="utf-8")
        pages.append(bare)
    browser_page = server["browser"].new_page(viewport={"width": 1400, "height": 1000})
    for path in pages:
        browser_page.goto(path.as_uri())
        browser_page.wait_for_load_state("load")
        _nothing_ran(browser_page, path.name)
        text = browser_page.locator("body").inner_text()
        assert "<script>window.__xss_script=1</script>" in text, path.name  # shown as the text it is
    _shot(browser_page, "report_hostile_class")
    browser_page.close()


HW5 = "hw5_cnn"
CORR2D_FORBIDDEN = "def corr2d(X, K):\n    return F.conv2d(X[None, None], K[None, None])[0, 0]\n"
CORR2D_FLIPPED = ("def corr2d(X, K):\n"
                  "    h, w = K.shape\n"
                  "    K = torch.flip(K, (0, 1))\n"
                  "    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1), dtype=X.dtype)\n"
                  "    for i in range(Y.shape[0]):\n"
                  "        for j in range(Y.shape[1]):\n"
                  "            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()\n"
                  "    return Y\n")


def _index_of(cells, text: str) -> int:
    """The index of the first cell showing ``text`` (figures and explanations come before the code)."""
    for i in range(cells.count()):
        if text in cells.nth(i).inner_text():
            return i
    raise AssertionError(f"no cell shows {text!r}")


def _fill_and_test(page, cells, code: str, expect: str):
    """Put ``code`` in the corr2d cell, run the cells down to its public test, wait for ``expect`` there."""
    at = _index_of(cells, "Public tests for corr2d")
    solution = cells.nth(at - 1)
    solution.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(code)
    page.keyboard.press("Escape")
    cells.nth(0).click()
    for _ in range(at + 1):  # every cell down to corr2d's public test
        page.keyboard.press("Shift+Enter")
    test_cell = cells.nth(at)
    test_cell.locator(".jp-OutputArea-output", has_text=expect).wait_for(timeout=120_000)
    test_cell.scroll_into_view_if_needed()
    return test_cell.locator(".jp-OutputArea").inner_text()


def _validate(page) -> str:
    """Click the toolbar's Validate (nbgrader's button) and read its dialog."""
    page.locator(".jp-NotebookPanel:visible").get_by_role("button", name="Validate").first.click()
    dialog = page.locator(".jp-Dialog-content")
    dialog.wait_for(timeout=240_000)
    try:  # nbgrader's dialog: "The following cell failed:" ... or "Success! ..."
        page.wait_for_function("() => { const d = document.querySelector('.jp-Dialog-content');"
                               " return d && /failed|Success|passes/.test(d.innerText); }", timeout=240_000)
    except Exception as exc:
        _shot(page, "student_validate_no_result")
        raise AssertionError(f"Validate showed no result: {dialog.inner_text()[:2000]}") from exc
    return dialog.inner_text()


def test_does_a_student_see_forbidden_then_the_named_mistake_in_the_cell_and_in_validate(server):
    """corr2d through F.conv2d: FORBIDDEN in the public test and in Validate (right values, never a pass); then
    a flipped kernel: FAILED naming it, with what it got, in both."""
    page = server["browser"].new_page(viewport={"width": 1400, "height": 900})
    # ?reset: a workspace of its own (the earlier test's notebook is not restored beside this one)
    page.goto(f"{server['base']}/lab/tree/work/{HW5}/{HW5}.ipynb?reset&token={server['token']}")
    panel = page.locator(".jp-NotebookPanel:visible")
    cells = panel.locator(".jp-Notebook .jp-Cell")
    cells.nth(4).wait_for(timeout=60_000)
    panel.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(timeout=60_000)

    output = _fill_and_test(page, cells, CORR2D_FORBIDDEN, "FORBIDDEN")
    _shot(page, "student_corr2d_forbidden_public_test")
    assert "FORBIDDEN corr2d: corr2d called" in output and "conv2d" in output and "advisory" in output, output
    assert "Traceback" not in output and "PASS" not in output
    shown = _validate(page)
    _shot(page, "student_corr2d_forbidden_validate")
    assert "FORBIDDEN corr2d: corr2d called" in shown, shown
    assert "Kernel is running" not in shown and "Traceback" not in shown
    page.get_by_role("button", name="OK").first.click()

    output = _fill_and_test(page, cells, CORR2D_FLIPPED, "FAILED")
    _shot(page, "student_corr2d_flipped_public_test")
    assert "FAILED    corr2d: got [[5.0, 11.0], [23.0, 29.0]]: that is K flipped" in output, output
    assert "Traceback" not in output
    shown = _validate(page)
    _shot(page, "student_corr2d_flipped_validate")
    assert "FAILED    corr2d: got [[5.0, 11.0], [23.0, 29.0]]: that is K flipped" in shown, shown
    assert "FORBIDDEN corr2d" not in shown and "Kernel is running" not in shown
    page.close()


@pytest.mark.parametrize("assignment_id", assignment_ids())
def test_do_the_released_notebooks_figures_render(server, assignment_id):
    """Each figure of figures/draw.py shows as a loaded image in the student's JupyterLab (screenshot kept)."""
    sys.path.insert(0, str(ROOT / "figures"))
    import draw
    names = [f.name for f in draw.FIGURES if f.assignment == assignment_id]
    if not names:
        pytest.skip(f"{assignment_id} has no figure yet (tests/test_figures.py lists why)")
    page = server["browser"].new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{server['base']}/lab/tree/work/{assignment_id}/{assignment_id}.ipynb?reset&token={server['token']}")
    panel = page.locator(".jp-NotebookPanel:visible")
    panel.locator(".jp-Notebook .jp-Cell").nth(2).wait_for(timeout=60_000)
    loaded = ("() => [...document.querySelectorAll('.jp-NotebookPanel .jp-RenderedMarkdown img')]"
              ".filter(i => i.complete && i.naturalWidth > 100).map(i => i.getAttribute('alt'))")
    try:
        page.wait_for_function(f"() => ({loaded})().length >= {len(names)}", timeout=90_000)
    except Exception as exc:
        _shot(page, f"figures_{assignment_id}_missing")
        raise AssertionError(f"{assignment_id}: loaded images {page.evaluate(loaded)}, figures {names}") from exc
    first = panel.locator(".jp-RenderedMarkdown img").first
    first.scroll_into_view_if_needed()
    assert _shot(page, f"figures_{assignment_id}").stat().st_size > 10_000
    page.close()
