"""``autograder``: grade submissions, validate assignments, release notebooks, run the demo.

Exit codes: 0 done (a graded submission exits 0 whatever its score; validate: all checks held),
1 validate found a problem, 2 the usage or the harness is wrong (the message says which).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import defaults
from .launcher import HarnessError, Launcher, imports_without_gc, not_dumpable
from .layout import Course, UsageError
from .progress import Interrupted
from .safe import safe


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default=defaults.DEVICE, choices=["auto", "cpu", "cuda"],
                   help="where graders and student code run (default: %(default)s; auto = cuda when available)")
    p.add_argument("--seed", type=int, default=defaults.SEED,
                   help="run seed; each test's seed derives from it and its id (default: %(default)s)")
    p.add_argument("--course-root", help="course folder (default: found from the current folder)")
    p.add_argument("--strict", action="store_true",
                   help="refuse to grade unless the filesystem, pid and network walls all hold "
                        "(see `autograder probe`)")
    p.add_argument("--require-data", action="store_true",
                   help="refuse to grade an assignment that needs Fashion-MNIST (hw7's open part) on the fallback "
                        "data set (or set require_data = true in d2lcourse.toml)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="autograder", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    g = sub.add_parser("grade", help="grade one submitted notebook")
    g.add_argument("assignment", help="assignment id, e.g. hw1_linear_regression")
    g.add_argument("notebook", type=Path, help="the submitted .ipynb")
    g.add_argument("--results", type=Path, help="write Gradescope's results.json here")
    g.add_argument("--feedback", type=Path, help="write the student's feedback report (markdown) here")
    g.add_argument("-k", dest="select", help="only the graders matching this pytest -k expression")
    g.add_argument("-v", "--verbose", action="store_true", help="show instructor detail (tracebacks) too")
    g.add_argument("--intake", type=Path, metavar="FOLDER",
                   help="the notebook is a student's upload found in FOLDER: refuse links and the instructor's "
                        "notebook, as `batch` does (the Gradescope entry point passes its submission folder)")
    _common(g)

    b = sub.add_parser("batch", help="grade many submissions in parallel and write a gradebook CSV")
    b.add_argument("assignment")
    b.add_argument("paths", nargs="+", type=Path,
                   help="notebooks, folders of notebooks, or nbgrader's submitted/ folder")
    b.add_argument("--out", type=Path, required=True, help="where results, feedback and grades.csv go")
    b.add_argument("--jobs", type=int, default=defaults.JOBS, help="parallel graders (default: half the CPU cores)")
    b.add_argument("--force", action="store_true", help="regrade submissions that already have results")
    b.add_argument("--engine", choices=["pool", "ray"], default="pool",
                   help="pool: processes on this machine (default); ray: tasks on a Ray cluster (pip install '.[ray]')")
    b.add_argument("--address", help="with --engine ray: the cluster to join (default: start one on 127.0.0.1)")
    b.add_argument("--gpu-slots", type=int, metavar="N",
                   help="grade N submissions at once on each GPU, each capped at 1/N of its memory (hw7's trainings)")
    b.add_argument("--no-gradebook", action="store_true",
                   help="do not record the scores in nbgrader's gradebook (recorded when the assignment is released)")
    _common(b)

    v = sub.add_parser("validate", help="check that source notebooks score full marks and releases zero")
    v.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    _common(v)

    r = sub.add_parser("release", help="regenerate release/ from source/ with nbgrader generate_assignment")
    r.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    r.add_argument("--course-root")

    d = sub.add_parser("demo", help="release every assignment and grade the example submissions in tests/submissions")
    d.add_argument("--out", type=Path, default=defaults.DEMO_OUT, help="where reports go (default: %(default)s)")
    d.add_argument("--jobs", type=int, default=defaults.JOBS, help="parallel graders (default: half the CPU cores)")
    _common(d)

    _add_staff_commands(sub)
    sub.add_parser("list", help="list assignments, their graded parts and points").add_argument("--course-root")
    sub.add_parser("probe", help="show which walls hold around student code on this host (exit 1: some do not)"
                   ).add_argument("--course-root")

    n = sub.add_parser("new", help="scaffold a new assignment, with one working example, in its six places")
    n.add_argument("assignment", help="the new assignment's id, e.g. hw5_cnn")
    n.add_argument("--title", help="the notebook's title (default: from the id)")
    n.add_argument("--course-root")
    return parser


def _add_staff_commands(sub) -> None:
    gs = sub.add_parser("gradescope", help="write an assignment's Gradescope autograder zip (setup.sh, run_autograder)")
    gs.add_argument("assignment")
    gs.add_argument("--out", type=Path, help="the zip to write (default: build/gradescope/<id>.zip)")
    gs.add_argument("--per-check", action="store_true",
                    help="results.json gets a row per check (default: one per graded part, its checks in its output)")
    gs.add_argument("--course-root")
    cv = sub.add_parser("canvas", help="write Canvas's gradebook import CSV from a batch's output")
    cv.add_argument("assignment")
    cv.add_argument("graded", type=Path, help="the batch's --out folder")
    cv.add_argument("--roster", type=Path, help="Canvas's gradebook export, to fill in Canvas's student ids")
    cv.add_argument("--column", help="the Canvas assignment column (default: the assignment id)")
    cv.add_argument("--out", type=Path, help="default: GRADED/<id>/canvas.csv")
    cv.add_argument("--course-root")
    rp = sub.add_parser("report", help="an HTML page on a graded class: plots, mistakes, protections, similar pairs")
    rp.add_argument("assignment")
    rp.add_argument("graded", type=Path, help="the batch's --out folder")
    rp.add_argument("--out", type=Path, help="default: GRADED/<id>/report.html")
    rp.add_argument("--top", type=int, default=10, help="most pairs of similar submissions to list")
    rp.add_argument("--min-shared", type=int, default=None,
                    help="fewest shared fingerprints for a pair to be listed (default: similarity.MIN_SHARED)")
    rp.add_argument("--course-root")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    not_dumpable()
    if getattr(args, "strict", False):
        os.environ["AUTOGRADER_STRICT"] = "1"  # pool processes start their own launchers
    if getattr(args, "require_data", False):
        os.environ["AUTOGRADER_REQUIRE_DATA"] = "1"  # the graders read it too (integrity.REQUIRE_ENV)
    try:
        course = Course.find(args.course_root)
        check_harness(course)
        return COMMANDS[args.command](args, course)
    except UsageError as exc:  # may name the student's files: their control characters escaped
        print(f"autograder: {safe(exc, 'terminal')}", file=sys.stderr)
        return 2
    except HarnessError as exc:
        print(f"autograder: internal error: {safe(exc, 'terminal')}", file=sys.stderr)
        return 2
    except Interrupted as exc:  # a batch (or the demo) stopped by Ctrl-C or SIGTERM, cleanly
        print(f"autograder: {safe(exc, 'terminal')}", file=sys.stderr)
        return exc.exit_code


def check_harness(course: Course) -> None:
    """Refuse to start when the course folder is a checkout (it holds ``autograder/`` or ``course/gradeworker/``)
    but the harness or the worker package imported here is another one: a venv whose editable install points
    at another checkout grades with that checkout's code, every check an internal error, and nothing said why."""
    import gradeworker
    worker = course.root / "course" / "gradeworker"
    for name, imported, own in (("autograder", Path(__file__).parent, course.root / "autograder"),
                                ("gradeworker", Path(gradeworker.__file__).parent, worker)):
        if (own / "__init__.py").is_file() and imported.resolve() != own.resolve():
            raise UsageError(f"the {name} package imported here is {imported}, not this course's {own}: this "
                             f"environment's install points at another checkout. Use {course.root}/.venv, or run "
                             f"`pip install -e {course.root}` (and `-e {course.root / 'course'}`) in this one")


def run() -> None:
    """Console-script entry point: main(), then exit without the slow teardown of torch and pytest."""
    try:
        code = main()
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # output piped into `head` and cut short: not an error of ours
        code = 0
    os._exit(code)  # every file is written and closed by now


def cmd_grade(args: argparse.Namespace, course: Course) -> int:
    course.assignment(args.assignment)
    if not args.notebook.exists() and not args.notebook.is_symlink():
        raise UsageError(f"no such file: {args.notebook}")
    # The fork server first, before anything here imports torch (integrity does): its `import torch` then
    # overlaps with ours instead of following it.
    launcher = Launcher()
    try:
        with imports_without_gc():
            from .grade import grade_submission
            from .integrity import refuse_without_data
            from .render import terminal_summary
            from .writers import write_result_files
        refuse_without_data(course, args.assignment)  # before any worker is forked
    except BaseException:
        launcher.close()
        raise
    with launcher:
        result = grade_submission(args.assignment, args.notebook, course=course, device=args.device,
                                  seed=args.seed, select=args.select, launcher=launcher, intake=args.intake)
    print(terminal_summary(result, verbose=args.verbose))
    write_result_files(result, results_json=args.results, feedback=args.feedback)
    for label, path in (("results", args.results), ("feedback", args.feedback)):
        if path:
            print(f"{label}: {path}")
    return 2 if result.harness_errors else 0


def cmd_batch(args: argparse.Namespace, course: Course) -> int:
    from .batch import find_submissions, grade_batch, print_table
    submissions = find_submissions(args.assignment, args.paths)
    if args.engine == "ray":
        from .ray_engine import import_ray
        import_ray()  # not installed: say how to install it, exit 2, before anything is graded
    elif args.address:
        raise UsageError("--address is for --engine ray")
    if args.gpu_slots is not None and args.gpu_slots < 1:
        raise UsageError(f"--gpu-slots takes a whole number of at least 1, not {args.gpu_slots}")
    missing = [str(p) for p in args.paths if not p.exists() and not p.is_symlink()]
    if missing:
        raise UsageError(f"no such file or folder: {', '.join(missing)}")
    if not submissions:
        raise UsageError(f"no notebooks found in {', '.join(map(str, args.paths))} (looked for *.ipynb and "
                         f"nbgrader's <student>/{args.assignment}/*.ipynb)")
    # Said before the driver's own `import torch` (integrity's, ~2 s and far more on a loaded machine): the
    # batch's first line comes at once, not after a silence.
    print(f"autograder: {len(submissions)} submission(s) of {args.assignment} found; starting the graders",
          file=sys.stderr, flush=True)
    from .integrity import SECRET_ENV, refuse_without_data, secret_seed
    notice = refuse_without_data(course, args.assignment)
    if notice:
        print(f"autograder: {notice}", flush=True)  # the batch's first line
    os.environ.setdefault(SECRET_ENV, str(secret_seed()))  # one transformation of the test set for the whole batch
    results = grade_batch(course, args.assignment, submissions, args.out, jobs=args.jobs, device=args.device,
                          seed=args.seed, force=args.force, engine=args.engine, address=args.address,
                          gpu_slots=args.gpu_slots)
    if not args.no_gradebook:
        from .batch import rewrite_outputs
        from .gradebook import update_after_batch
        manual_before = [dict(r.manual) for r in results]
        try:
            print(update_after_batch(course, args.assignment, submissions, results))
            changed = [r for r, before in zip(results, manual_before) if r.manual != before or r.flags]
            if changed:  # the gradebook's manual grades are the final scores: every file shows them
                rewrite_outputs(args.out, args.assignment, changed)
        except KeyboardInterrupt:  # every result file and grades.csv were written before this phase
            print(f"autograder: gradebook stopped by Ctrl-C: every student's files and {args.out / args.assignment}"
                  "/grades.csv are saved (the checks' scores); run the same command again to record the gradebook "
                  "(nothing is graded again)", file=sys.stderr)
            return 130
    print_table(results)
    if notice:
        print(f"autograder: {notice}")  # and its summary's last
    print(f"reports: {args.out / args.assignment}/<student>/feedback.md; gradebook: "
          f"{args.out / args.assignment / 'grades.csv'}")
    return 2 if any(r.harness_errors for r in results) else 0


def cmd_validate(args: argparse.Namespace, course: Course) -> int:
    from .assignment_check import check_assignment
    ids = args.assignments or course.assignment_ids()
    ok = True
    for assignment_id in ids:
        problems = check_assignment(course, assignment_id, device=args.device, seed=args.seed)
        ok &= not problems
        print(f"{assignment_id}: {'ok' if not problems else 'PROBLEMS'}")
        for p in problems:
            print(f"  - {p}")
    return 0 if ok else 1


def cmd_release(args: argparse.Namespace, course: Course) -> int:
    from .release import release
    for assignment_id in args.assignments or course.assignment_ids():
        print(f"released {release(course, assignment_id)}")
    return 0


def cmd_demo(args: argparse.Namespace, course: Course) -> int:
    from .demo import demo
    return demo(course, args.out, jobs=args.jobs, device=args.device, seed=args.seed)


def cmd_list(args: argparse.Namespace, course: Course) -> int:
    for assignment_id in course.assignment_ids():
        tasks = course.assignment(assignment_id).tasks
        print(f"{assignment_id} ({sum(t.points for t in tasks):g} points)")
        for t in tasks:
            print(f"  {t.points:>5g}  {t.name}")
    return 0


def cmd_probe(args: argparse.Namespace, course: Course) -> int:
    from .probe import probe
    return probe(str(course.root))


def cmd_gradescope(args: argparse.Namespace, course: Course) -> int:
    from .gradescope import build_bundle
    out = args.out or course.root / "build" / "gradescope" / f"{args.assignment}.zip"
    out = build_bundle(course, args.assignment, out, per_check=args.per_check)
    print(f"Gradescope autograder: {out} (upload it on the assignment's Configure Autograder page)")
    return 0


def cmd_canvas(args: argparse.Namespace, course: Course) -> int:
    from .exports import assignment_folder, load_graded, read_roster, write_canvas_csv
    course.assignment(args.assignment)
    out = args.out or assignment_folder(args.graded, args.assignment) / "canvas.csv"
    roster = read_roster(args.roster) if args.roster else None
    results = load_graded(args.graded, args.assignment)
    try:  # formgrader's manual grades, entered since the batch ran, are the final scores
        from .gradebook import apply_overrides
        apply_overrides(course, args.assignment, results)
    except ImportError:
        pass
    unmatched = write_canvas_csv(out, results, args.column or args.assignment, roster)
    if unmatched:
        print(f"autograder: warning: not in the roster, left out: {', '.join(safe(u, 'name') for u in unmatched)}",
              file=sys.stderr)
    print(f"Canvas gradebook CSV: {out}")
    return 0


def cmd_report(args: argparse.Namespace, course: Course) -> int:
    from .class_report import build_class_report
    from .exports import assignment_folder
    from .writers import write_text
    course.assignment(args.assignment)
    out = args.out or assignment_folder(args.graded, args.assignment) / "report.html"
    write_text(out, build_class_report(course, args.assignment, args.graded, top=args.top,
                                       min_shared=args.min_shared))
    print(f"report: {out}")
    return 0


def cmd_new(args: argparse.Namespace, course: Course) -> int:
    from .scaffold import new_assignment
    made = new_assignment(course, args.assignment, title=args.title)
    print(f"made {args.assignment}, an example (double(x) = 2 * x) to replace:")
    for path in made.values():
        print(f"  {path.relative_to(course.root)}")
    print(f"next: edit the contract and the source notebook, then `autograder release {args.assignment}`, the "
          f"graders, the reference, the catalogue and the examples; `autograder validate {args.assignment}` "
          "checks them")
    return 0


COMMANDS = {"probe": cmd_probe, "grade": cmd_grade, "batch": cmd_batch, "validate": cmd_validate,
            "release": cmd_release, "demo": cmd_demo, "list": cmd_list, "new": cmd_new,
            "gradescope": cmd_gradescope, "canvas": cmd_canvas, "report": cmd_report}
