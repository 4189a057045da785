"""Command line: ``python -m labkit release [--check | --sync-setup | --ref REF | --repo URL]``, ``doctor``, ``grade``
and ``numbers``."""

import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m labkit", description="AI Infrastructure Lab tools")
    sub = parser.add_subparsers(dest="command", required=True)
    rel = sub.add_parser("release", help="write notebooks/ (student copies) from solutions/")
    rel.add_argument("--check", action="store_true", help="only report; exit 1 when notebooks/ is out of date "
                                                           "(2 when solutions/ cannot be released)")
    rel.add_argument("--sync-setup", action="store_true",
                     help="rewrite the setup cell of each solutions/ notebook from labkit.REPO_URL first")
    rel.add_argument("--ref", metavar="REF", default=None,
                     help="point the setup cells, badges and README at this branch or tag (e.g. v0.2.0: a release "
                          "tag also sets the package version); rewrites labkit.REPO_BRANCH, then releases")
    rel.add_argument("--repo", metavar="URL", default=None,
                     help="point them at this GitHub repository (a fork); rewrites labkit.REPO_URL, then releases")
    rel.add_argument("--nbgrader", metavar="DIR", default=None,
                     help="instead, write an nbgrader course tree DIR/source/<chapter>/ (answer cells, a locked "
                          "test cell per exercise, reflections graded by hand) and DIR/nbgrader_config.py")
    rel.add_argument("--otter", metavar="DIR", default=None,
                     help="instead, write otter-grader master notebooks DIR/<chapter>/<chapter>.ipynb "
                          "(input of `otter assign`)")
    sub.add_parser("doctor", help="check Python, packages and whether widgets will render")
    grd = sub.add_parser("grade", help="grade submitted notebooks (sandboxed): grades.csv, totals, a report")
    from .grading import add_arguments as _grade_arguments
    _grade_arguments(grd)
    num = sub.add_parser("numbers", help="print a student's numbers of the per-student exercises (for a TA)")
    num.add_argument("exercise_ids", nargs="*", metavar="EXERCISE_ID",
                     help="e.g. 03.torus_bisection (default: every exercise with per-student numbers)")
    num.add_argument("--student", required=True, metavar="ID", help="the student id (their hub user name)")
    num.add_argument("--salt", default=None, metavar="S",
                     help="the course salt (default: $LABKIT_COURSE_SALT, as on the students' hub)")
    num.add_argument("--answers", action="store_true", help="also print the expected answer for those numbers")
    args = parser.parse_args(argv)

    if args.command == "numbers":
        return _numbers(args)

    if args.command == "grade":
        from .grading import run_cli
        return run_cli(args)

    if args.command == "doctor":
        from . import doctor
        report = doctor(show=False)
        print(report)
        return 0 if report.ok else 1

    from . import release
    if args.nbgrader is not None or args.otter is not None:
        try:
            if args.nbgrader is not None:
                release.nbgrader(args.nbgrader)
            if args.otter is not None:
                release.otter(args.otter)
        except (release.ReleaseError, ValueError, OSError) as e:  # says which file; nothing was written
            print(f"error: {e}", file=sys.stderr)
            return 2
        return 0
    if args.ref is not None or args.repo is not None:
        if args.check:
            print("error: --check only compares; run --ref/--repo without it", file=sys.stderr)
            return 2
        try:
            for p in release.set_source(ref=args.ref, repo_url=args.repo):
                print(f"updated {p}")
        except (release.ReleaseError, ValueError, TypeError, OSError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        args.sync_setup = True
    if args.sync_setup:
        for p in release.sync_setup():
            print(f"updated the setup cell of {p}")
    elif release.setup_mismatches():
        print("note: these sources' setup cell differs from labkit.REPO_URL's; "
              "run with --sync-setup to rewrite them:", *release.setup_mismatches(), sep="\n  ")
    try:
        todo = release.release(check_only=args.check)
    except release.ReleaseError as e:  # bad markers or a broken source: say where, no traceback
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.ref is not None and release.TAG.match(args.ref):
        print(f"next: commit, then `git tag {args.ref} && git push origin {args.ref}` (the badges open the tag)")
    return 1 if (args.check and todo) else 0


def _numbers(args):
    """``numbers``: one line per exercise, the student's numbers in words and as the dict numbers() gives."""
    import json
    import os

    from . import exercises
    salt = os.environ.get("LABKIT_COURSE_SALT", "") if args.salt is None else args.salt
    ids = args.exercise_ids or [i for i in exercises.ids() if getattr(exercises.get(i), "variants", None)]
    try:
        chosen = [exercises.get(i) for i in ids]
    except KeyError as e:
        print(f"error: {e.args[0]}", file=sys.stderr)
        return 2
    if not args.student.strip():
        print("error: --student must name a student (an empty id gets the default numbers)", file=sys.stderr)
        return 2
    if not salt:
        print("note: no salt (--salt or $LABKIT_COURSE_SALT): these are the numbers of a course without one",
              file=sys.stderr)
    for ex in chosen:
        if not getattr(ex, "variants", None):
            print(f"{ex.id}: the same numbers for everyone, as the question states them")
            continue
        mine = ex.numbers_for(args.student, salt)
        line = f"{ex.id}: {ex.describe_numbers(mine)}  {json.dumps(mine)}"
        if args.answers:
            line += f"  answer {ex.expected_for(mine):.6g}{(' ' + ex.unit) if ex.unit else ''}"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
