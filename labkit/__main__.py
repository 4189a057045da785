"""Command line: ``python -m labkit release [--check | --sync-setup | --ref REF | --repo URL]``, ``doctor`` and ``grade``."""

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
    args = parser.parse_args(argv)

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


if __name__ == "__main__":
    sys.exit(main())
