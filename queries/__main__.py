"""Command line of the data layer: python -m queries {summary,validate,import} --help."""

import argparse
import json
import math
import sys

from queries.dataset import Dataset, DatasetError
from queries.filters import DEFAULT_IGG_THRESHOLD, Filters
from queries.importer import DEFAULT_MAX_MB, default_max_mb
from queries.validate import report, validate


class FilterError(ValueError):
    """Filter values that select nothing sensible (a minimum above its maximum)."""


def _number(kind: type, lo: float, hi: float, what: str):
    """An argparse type: a finite number of this kind within [lo, hi] (NaN and ±inf refused)."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {what}") from None
        if not math.isfinite(value) or not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {what} from {lo:g} to {hi:g}")
        return value

    return parse


MONTHS = _number(float, 0, 1200, "number of months")
DOSES = _number(int, 0, 10_000, "whole number of doses")
YEARS = _number(float, 0, 120, "number of years")
GRAMS = _number(float, 0, 1000, "threshold in g/L")
MEGABYTES = _number(float, 0.001, 1_000_000, "size in MB")


def _filters(args: argparse.Namespace) -> Filters:
    """The summary's filters from the command line; FilterError when a minimum exceeds its maximum."""
    for name in ("followup", "doses", "age"):
        lo, hi = getattr(args, f"{name}_min"), getattr(args, f"{name}_max")
        if lo is not None and hi is not None and lo > hi:
            raise FilterError(f"--{name}-min {lo:g} is above --{name}-max {hi:g}")
    return Filters(
        followup_min=args.followup_min,
        followup_max=args.followup_max,
        doses_min=args.doses_min,
        doses_max=args.doses_max,
        subtypes=[s.upper() for s in args.subtype] if args.subtype else None,
        sexes=args.sex,
        sites=args.site,
        age_min=args.age_min,
        age_max=args.age_max,
        igg_threshold=args.igg_threshold,
    )


def cmd_summary(args: argparse.Namespace) -> int:
    """Print summary.json; it never holds NaN or Infinity (the contract), so that is an error."""
    # the command line is an entry point above both layers, like app.py: the statistics live in
    # analysis/, which the data layer itself never imports
    from analysis.summary import summary

    filters = _filters(args)
    ds = Dataset(args.data)
    try:
        text = json.dumps(summary(ds, filters), indent=2, allow_nan=False)
    except ValueError:
        print("error: the summary holds a value that is not a finite number; run "
              "'python -m queries validate' on the dataset", file=sys.stderr)
        return 1
    print(text)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    problems = validate(args.data)
    print(report(problems))
    return 1 if any(p.severity == "error" for p in problems) else 0


def cmd_import(args: argparse.Namespace) -> int:
    from queries.importer import ImportFailed, import_files

    if args.mapping:
        return cmd_import_mapped(args)
    try:
        result = import_files(args.source, args.to, user=args.user, max_mb=args.max_mb)
    except ImportFailed as exc:
        print(f"import failed: {exc}", file=sys.stderr)
        return 1
    for note in result.notes:
        print(note)
    if result.problems:
        print(report(result.problems))
    if result.version is None:
        print("not activated: the dataset has errors (nothing was changed)", file=sys.stderr)
        return 1
    print(f"activated version {result.version} in {args.to}")
    return 0


def _mapped(run, args: argparse.Namespace) -> object | None:
    """Run a mapped import step; None (after printing why) when the files or the mapping are unusable."""
    from queries.importer import ImportFailed
    from queries.mapping import MappingError

    try:
        return run()
    except MappingError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
    except ImportFailed as exc:
        print(f"import failed: {exc}", file=sys.stderr)
    return None


def _print_problems(problems: list, notes: list[str]) -> None:
    from queries.mapping import problem_lines

    for note in notes:
        print(note)
    for line in problem_lines(problems):
        print(line, file=sys.stderr if line.startswith("error") else sys.stdout)


def cmd_import_mapped(args: argparse.Namespace) -> int:
    from queries.mapping import import_mapped

    result = _mapped(lambda: import_mapped(args.source, args.mapping, args.to, args.user), args)
    if result is None:
        return 1
    _print_problems(result.problems, result.notes)
    if result.version is None:
        print("not activated: the dataset has errors (nothing was changed)", file=sys.stderr)
        return 1
    print(f"activated version {result.version} in {args.to}")
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    from queries.mapping import convert

    result = _mapped(lambda: convert(args.source, args.mapping, args.out), args)
    if result is None:
        return 1
    ok, problems, notes = result
    _print_problems(problems, notes)
    if not ok:
        print(f"not written: the dataset has errors ({args.out} unchanged)", file=sys.stderr)
        return 1
    print(f"dataset written to {args.out}")
    return 0


def cmd_suggest_mapping(args: argparse.Namespace) -> int:
    from queries.readers import read_source_files
    from queries.suggest import suggest_mapping

    text = _mapped(lambda: suggest_mapping(read_source_files(args.source)), args)
    if text is None:
        return 1
    print(text, end="")
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    from queries.dictionary import write_template

    try:
        print(f"template written to {write_template(args.out)}")
    except OSError as exc:
        print(f"error: cannot write {args.out}: {exc.strerror}", file=sys.stderr)
        return 1
    return 0


def cmd_dictionary(args: argparse.Namespace) -> int:
    from queries.dictionary import dictionary_markdown, write_dictionary

    if args.out:
        try:
            print(f"data dictionary written to {write_dictionary(args.out)}")
        except OSError as exc:
            print(f"error: cannot write {args.out}: {exc.strerror}", file=sys.stderr)
            return 1
    else:
        print(dictionary_markdown(), end="")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m queries",
        description="Rituximab Cohort Explorer data layer: study summary, validation and import "
        "of a cohort dataset (a folder of parquet files, one per table of the data contract).",
    )
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser(
        "summary",
        help="print the study summary (summary.json) for a dataset and filters",
        description="Print the contract's summary.json for the selected patients. Bounds are inclusive; "
        "a filter left out does not restrict.",
    )
    s.add_argument("--data", required=True, help="dataset folder (one parquet file per table)")
    s.add_argument("--followup-min", type=MONTHS, metavar="MONTHS", help="minimum follow-up in months")
    s.add_argument("--followup-max", type=MONTHS, metavar="MONTHS", help="maximum follow-up in months")
    s.add_argument("--doses-min", type=DOSES, metavar="N", help="minimum number of infusions")
    s.add_argument("--doses-max", type=DOSES, metavar="N", help="maximum number of infusions")
    s.add_argument("--subtype", nargs="+", metavar="S", help="subtypes to keep, e.g. RRMS NMOSD")
    s.add_argument("--sex", nargs="+", choices=["F", "M"], help="sexes to keep")
    s.add_argument("--site", nargs="+", metavar="SITE", help="sites (centres) to keep")
    s.add_argument("--age-min", type=YEARS, metavar="YEARS", help="minimum age at first dose")
    s.add_argument("--age-max", type=YEARS, metavar="YEARS", help="maximum age at first dose")
    s.add_argument(
        "--igg-threshold", type=GRAMS, default=DEFAULT_IGG_THRESHOLD, metavar="G_L",
        help=f"IgG below this (g/L) counts as low (default {DEFAULT_IGG_THRESHOLD})",
    )
    s.set_defaults(run=cmd_summary)

    v = sub.add_parser(
        "validate",
        help="check a dataset against every rule of the data contract",
        description="Report every problem of a dataset, grouped by table and rule, with examples "
        "naming the row, patient and column. Exit 1 on any error, 0 when only warnings (records "
        "outside a patient's window, a patient without infusions) or none.",
    )
    v.add_argument("--data", required=True, help="dataset folder (one parquet file per table)")
    v.set_defaults(run=cmd_validate)

    i = sub.add_parser(
        "import",
        help="import CSV/Excel/parquet files (or a zip) as a new dataset version",
        description="Read one file per table (CSV, .xlsx or parquet; or one zip of them, or a folder), "
        "cast to the contract's types, validate, and when there are no errors write a new version "
        "under the target folder and make it active. A failed import changes nothing.",
    )
    i.add_argument("--from", dest="source", nargs="+", required=True, metavar="FILES_OR_FOLDER")
    i.add_argument("--to", required=True, metavar="DIR", help="datasets folder holding the versions")
    i.add_argument("--user", default="command line", help="who imports (recorded with the version)")
    i.add_argument(
        "--max-mb", type=MEGABYTES, default=default_max_mb(), metavar="MB",
        help="size limit per file and per expanded zip, as in the app (default: RCE_MAX_UPLOAD_MB or "
        f"{DEFAULT_MAX_MB})",
    )
    i.add_argument("--mapping", metavar="MAPPING.toml",
                   help="read the study's own files (wide sheets, REDCap, SPSS, Stata) through this "
                   "mapping (docs/mapping.md)")
    i.set_defaults(run=cmd_import)

    c = sub.add_parser(
        "convert",
        help="turn a study's own files into a dataset folder through a mapping (no versioning)",
        description="Read CSV/Excel sheets, a REDCap export with its data dictionary, SPSS .sav or "
        "Stata .dta files through a mapping file (docs/mapping.md), validate, and write the "
        "contract's dataset folder (one parquet file per table). Exit 1 with every problem, naming "
        "the source file, row and column, when it is invalid (nothing is written).",
    )
    c.add_argument("--from", dest="source", nargs="+", required=True, metavar="SOURCE")
    c.add_argument("--mapping", required=True, metavar="MAPPING.toml")
    c.add_argument("--out", required=True, metavar="DIR", help="dataset folder to write")
    c.set_defaults(run=cmd_convert)

    m = sub.add_parser(
        "suggest-mapping",
        help="print a suggested mapping file for a study's own files (a starting point to edit)",
        description="Read the files and print a mapping (TOML) guessed from column names, REDCap "
        "field types and choices, value labels and the values themselves: "
        "python -m queries suggest-mapping --from export.csv dictionary.csv > mapping.toml",
    )
    m.add_argument("--from", dest="source", nargs="+", required=True, metavar="SOURCE")
    m.set_defaults(run=cmd_suggest_mapping)

    t = sub.add_parser(
        "template",
        help="write the Excel template: one sheet per table, example rows, drop-downs, dictionary",
        description="Write an Excel workbook to fill in: one sheet per table of the data contract "
        "with its column names and two example rows, drop-down lists for the columns with fixed "
        "values, and a 'dictionary' sheet describing every column. The filled workbook imports "
        "as it is (python -m queries import --from template.xlsx ...).",
    )
    t.add_argument("--out", required=True, metavar="FILE.xlsx", help="where to write the workbook")
    t.set_defaults(run=cmd_template)

    d = sub.add_parser(
        "dictionary",
        help="print (or write) the data dictionary as Markdown",
        description="Print the data dictionary (every table and column, rules, windows and the "
        "definition of every figure), generated from the contract; with --out, write it to a "
        "file (docs/data-dictionary.md in the repository).",
    )
    d.add_argument("--out", metavar="FILE.md", help="write to this file instead of printing")
    d.set_defaults(run=cmd_dictionary)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except DatasetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except FilterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
