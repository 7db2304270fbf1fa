"""Suggest a mapping file for a study's own files: a starting point the user confirms or edits.

Guesses come from column names and labels (SPSS/Stata variable labels, REDCap field labels), REDCap
field types and choices, value labels, and the values themselves (mostly dates, numbers from 0 to 10
in steps of 0.5, a few distinct words). Repeated columns (`EDSS 6m date`, `EDSS 6m`, …) become
wide-to-long groups. The text parses back with `queries.mapping.load_mapping`.
"""

import difflib
import json
import re
from collections import Counter
from dataclasses import dataclass, field

from queries.contract import TABLES
from queries.mapping import (
    DEFAULT_DATE_FORMAT,
    FALSE,
    STORED_UNITS,
    TRUE,
    enumerations,
    parse_date,
    parse_number,
)
from queries.readers import Redcap, Sheet, Workbook, blank, code_text

MISSING_TOKENS = (
    "n/a",
    "na",
    "n.a.",
    "-",
    "--",
    ".",
    "?",
    "nd",
    "not done",
    "unknown",
    "missing",
    "-99",
    "999",
)
SAMPLE = 500  # cells looked at per column
SYNONYMS: dict[str, tuple[str, ...]] = {
    "patient_id": (
        "patient id",
        "patient",
        "patient no",
        "patient number",
        "id",
        "record id",
        "subject",
        "subject id",
        "study id",
        "code",
        "case",
    ),
    "subtype": ("subtype", "diagnosis", "dx", "disease", "ms type", "phenotype", "disease type"),
    "sex": ("sex", "gender"),
    "age_at_first_dose": ("age", "age at first dose", "age at first infusion", "age years"),
    "baseline_edss": (
        "baseline edss",
        "edss baseline",
        "edss0",
        "edss bl",
        "edss at first infusion",
        "edss at baseline",
    ),
    "first_dose_date": (
        "first dose",
        "first infusion",
        "first dose date",
        "first rituximab infusion",
        "rtx start",
        "rtx1",
        "start of rituximab",
        "date of first rituximab infusion",
    ),
    "last_followup_date": (
        "last follow up",
        "last visit",
        "last followup",
        "lastfu",
        "end of follow up",
        "last follow up visit",
        "date of last follow up",
    ),
    "disease_duration_years": ("disease duration", "duration", "disease duration years", "dur"),
    "prior_treatments": (
        "prior treatments",
        "prior dmts",
        "prior dmt",
        "previous dmts",
        "ndmt",
        "number of failed earlier dmts",
        "earlier treatments",
    ),
    "site": ("site", "centre", "center", "hospital", "clinic"),
    "dose_date": ("dose date", "infusion date", "date of infusion", "date", "dosedate"),
    "dose_mg": ("dose", "dose mg", "mg"),
    "course": ("course", "cycle", "treatment course"),
    "onset_date": (
        "onset",
        "onset date",
        "relapse date",
        "attack date",
        "relapse onset",
        "date",
        "ae onset",
    ),
    "severity": ("severity", "relapse severity"),
    "assessment_date": ("edss date", "assessment date", "visit date", "date"),
    "edss": ("edss", "edss score"),
    "scan_date": ("scan date", "mri date", "date"),
    "new_t2_lesions": (
        "new t2",
        "new t2 lesions",
        "t2 lesions",
        "new or enlarging t2 lesions",
        "mri new t2",
    ),
    "gd_enhancing_lesions": (
        "gd",
        "gd lesions",
        "gd enhancing lesions",
        "gadolinium",
        "enhancing lesions",
        "mri gd",
    ),
    "sample_date": ("sample date", "lab date", "date"),
    "test": ("test", "analyte", "parameter", "lab test"),
    "value": ("value", "result", "lab value"),
    "unit": ("unit", "units", "lab unit"),
    "term": ("term", "event", "adverse event", "ae term", "meddra term"),
    "relation": ("relation", "related", "relationship", "relation to infusion", "ae relation"),
    "grade": ("grade", "ctcae grade", "ae grade"),
    "serious": ("serious", "sae", "ae serious"),
    "infection": ("infection", "ae infection"),
    "opportunistic": ("opportunistic", "opportunistic infection", "ae opportunistic"),
    "outcome": ("outcome", "ae outcome"),
    "contact_date": ("contact date", "date"),
    "channel": ("channel", "medium", "contact channel"),
    "kind": ("kind", "type", "contact kind", "contact type"),
}
TABLE_WORDS = {  # words in a sheet, instrument or column name that point at a table
    "patients": ("patient", "demograph", "baseline", "cohort"),
    "infusions": ("infusion", "dose", "rituximab", "rtx"),
    "relapses": ("relapse", "attack"),
    "edss": ("edss", "visit"),
    "mri": ("mri", "scan"),
    "labs": ("lab",),
    "adverse_events": ("adverse", "ae", "safety"),
    "engagement": ("contact", "engagement", "skype", "whatsapp"),
}
ENUM_GUESSES = {  # lower-case fragments of a source value → contract value
    "subtype": (
        ("relaps", "RRMS"),
        ("remit", "RRMS"),
        ("rr", "RRMS"),
        ("second", "SPMS"),
        ("sp", "SPMS"),
        ("nmo", "NMOSD"),
        ("neuromyelitis", "NMOSD"),
        ("devic", "NMOSD"),
    ),
    "sex": (("female", "F"), ("woman", "F"), ("fem", "F"), ("male", "M"), ("man", "M")),
    "severity": (("mild", "mild"), ("moder", "moderate"), ("sever", "severe")),
    "relation": (
        ("during", "during_infusion"),
        ("after", "post_infusion"),
        ("post", "post_infusion"),
        ("not", "not_infusion_related"),
        ("unrelated", "not_infusion_related"),
    ),
    "outcome": (
        ("recover", "resolved"),
        ("resolved", "resolved"),
        ("resolving", "resolving"),
        ("ongoing", "ongoing"),
        ("death", "fatal"),
        ("died", "fatal"),
        ("fatal", "fatal"),
        ("unknown", "unknown"),
    ),
}
REPEATED = re.compile(
    r"(?<![A-Za-z0-9])(\d+(?:\.\d+)?)\s*(m|mo|mos|month|months|y|yr|years?|w|wk|weeks?)?"
    r"(?![A-Za-z0-9])",
    re.IGNORECASE,
)


@dataclass
class Profile:
    """What a column's values look like."""

    name: str
    label: str = ""
    n: int = 0
    dates: float = 0.0  # share of non-missing cells that read as dates
    numbers: float = 0.0
    edss_scale: float = 0.0  # share of numbers from 0 to 10 in steps of 0.5
    whole: float = 0.0
    yes_no: float = 0.0
    listed: float = 0.0  # share of cells holding a list ("IFN; GA")
    distinct: list[str] = field(default_factory=list)  # up to 30 distinct values (labels if any)
    field_type: str = ""  # REDCap field type or validation

    def fits(self, logical: str, column: str) -> float:
        """How well the values fit a contract column's type (0 = not at all)."""
        if self.n == 0:
            return 0.5
        if logical == "date" or self.field_type.startswith("date"):
            return self.dates if logical == "date" else 0.0
        if self.dates > 0.8:
            return 0.0
        if column in ("edss", "baseline_edss"):
            return self.edss_scale
        if logical in ("double", "integer"):
            return self.numbers * (self.whole if logical == "integer" else 1.0)
        if logical == "boolean":
            return self.yes_no
        return 1.0 if self.numbers < 0.9 or self.distinct else 0.3


def _norm(text: str) -> str:
    text = re.sub(r"\(.*?\)|\[.*?\]", " ", str(text).lower())
    text = re.sub(r"___\d+$", "", text)
    return " ".join(re.sub(r"[^a-z0-9+]+", " ", text).split())


def _name_score(names: list[str], column: str) -> float:
    """How much a source column's name (or label) sounds like the contract column."""
    best = 0.0
    for name in names:
        n = _norm(name)
        if not n:
            continue
        for synonym in (column.replace("_", " "), *SYNONYMS.get(column, ())):
            if n == synonym:
                return 1.0
            ratio = difflib.SequenceMatcher(None, n, synonym).ratio()
            if re.search(rf"\b{re.escape(synonym)}\b", n) and len(synonym) > 2:
                ratio = max(ratio, 0.8 + 0.1 * len(synonym) / len(n))
            best = max(best, ratio)
    return best


def _profile(
    sheet: Sheet, column: str, rows: list[int], missing: set[str], project: Redcap | None
) -> Profile:
    cells = sheet.values(column)
    values = [cells[i] for i in rows[:SAMPLE]]
    values = [v for v in values if not blank(v) and code_text(v).lower() not in missing]
    labels = sheet.value_labels.get(column, {})
    p = Profile(column, sheet.labels.get(column, ""), len(values))
    if project is not None and column.split("___")[0] in project.fields:
        f = project.fields[column.split("___")[0]]
        p.field_type = f.validation if f.validation.startswith("date") else f.type
    if not values:
        return p
    dates = numbers = scale = whole = yes_no = 0
    for v in values:
        text = code_text(v).lower()
        yes_no += (
            text in TRUE or text in FALSE or labels.get(code_text(v), "").lower() in TRUE | FALSE
        )
        try:
            parse_date(v, DEFAULT_DATE_FORMAT, excel=False)
            dates += not isinstance(v, (int, float))
            continue
        except ValueError:
            pass
        try:
            x = parse_number(v)
        except ValueError:
            continue
        numbers += 1
        whole += float(x).is_integer()
        scale += 0 <= x <= 10 and (2 * x).is_integer()
    p.dates, p.numbers = dates / len(values), numbers / len(values)
    p.whole = whole / numbers if numbers else 0.0
    p.edss_scale = scale / len(values)
    p.yes_no = yes_no / len(values)
    p.listed = sum(
        isinstance(v, str) and bool(re.search(r"\w\s*[;,/+]\s*\w", v)) for v in values
    ) / len(values)
    shown = [labels.get(code_text(v), code_text(v)) for v in values]
    counts = Counter(shown)
    if len(counts) <= 30:
        p.distinct = [v for v, _ in counts.most_common()]
    return p


@dataclass
class Candidate:
    """A place a table could come from: a sheet, or a REDCap instrument or event."""

    sheet: Sheet
    rows: list[int]
    columns: list[str]
    instrument: str | None = None
    event: str | None = None
    profiles: dict[str, Profile] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return " ".join(x for x in (self.sheet.title, self.instrument or "", self.event or "") if x)


def _candidates(book: Workbook, missing: set[str]) -> list[Candidate]:
    found = []
    for sheet in book.sheets:
        project = book.redcap.get(sheet.file)
        if project is None:
            rows = list(range(len(sheet.frame)))
            found.append(Candidate(sheet, rows, [str(c) for c in sheet.frame.columns]))
            continue
        for instrument in project.instruments:
            columns = [c for c in project.form_columns(instrument) if not c.endswith("_complete")]
            rows = project.form_rows(instrument)
            event_of = (
                sheet.values("redcap_event_name") if "redcap_event_name" in sheet.frame else None
            )
            repeat_of = (
                sheet.values("redcap_repeat_instrument")
                if "redcap_repeat_instrument" in sheet.frame
                else None
            )
            events = Counter(event_of[i] for i in rows) if event_of else Counter()
            repeating = repeat_of is not None and any(repeat_of[i] == instrument for i in rows)
            event = events.most_common(1)[0][0] if events and not repeating else None
            found.append(
                Candidate(
                    sheet,
                    rows,
                    [project.record_id, *columns],
                    None if not project.fields else instrument,
                    event,
                )
            )
    for c in found:
        project = book.redcap.get(c.sheet.file)
        c.profiles = {col: _profile(c.sheet, col, c.rows, missing, project) for col in c.columns}
    return found


def _assign(
    candidate: Candidate, table: str, taken: set[str] = frozenset()
) -> dict[str, tuple[str, float]]:
    """Contract column → (source column, score): the best distinct fits above a threshold."""
    pairs = []
    for column in TABLES[table].columns:
        for name, profile in candidate.profiles.items():
            if name in taken or "___" in name:  # a checkbox's boxes are counted, not mapped
                continue
            score = _name_score([name, profile.label], column.name) * profile.fits(
                column.type, column.name
            )
            if column.name == "patient_id" and name == candidate.columns[0]:
                score = max(score, 0.7)
            if score >= 0.6:
                pairs.append((score, column.name, name))
    chosen: dict[str, tuple[str, float]] = {}
    used = set()
    for score, column, name in sorted(pairs, key=lambda x: -x[0]):
        if column not in chosen and name not in used:
            chosen[column] = (name, score)
            used.add(name)
    return chosen


def _table_score(candidate: Candidate, table: str, chosen: dict) -> float:
    required = [c.name for c in TABLES[table].columns if c.required and c.name != "patient_id"]
    covered = sum(chosen[c][1] for c in required if c in chosen) / max(1, len(required))
    words = _norm(
        " ".join(
            x
            for x in (candidate.sheet.name or candidate.sheet.file, candidate.instrument or "")
            if x
        )
    )
    named = any(w in words for w in TABLE_WORDS[table])
    if len(required) <= 1 and not named:
        return 0.0  # one matching date column alone does not make a sheet of relapses
    return covered + (0.3 if named else 0.0)


@dataclass
class Family:
    """Repeated columns: one name with a changing number (`EDSS 6m`, `EDSS 12m`, …)."""

    template: str
    keys: list[str]
    columns: list[str]


def _families(columns: list[str]) -> list[Family]:
    groups: dict[str, list[tuple[str, str]]] = {}
    for column in columns:
        match = REPEATED.search(column)
        if not match:
            continue
        template = column[: match.start()] + "{}" + column[match.end() :]
        groups.setdefault(template, []).append((match.group(0), column))
    return [
        Family(t, [k for k, _ in m], [c for _, c in m]) for t, m in groups.items() if len(m) > 1
    ]


def _months(key: str) -> float | None:
    match = REPEATED.fullmatch(key.strip())
    if not match or not match.group(2):
        return None
    unit = match.group(2).lower()
    number = float(match.group(1))
    return number * (12 if unit.startswith("y") else 1 / 4.348 if unit.startswith("w") else 1)


def _q(value: object) -> str:
    """A TOML value (strings quoted as basic strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_q(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def _key(text: str) -> str:
    return text if re.fullmatch(r"[A-Za-z0-9_-]+", text) else _q(text)


def suggest_mapping(book: Workbook) -> str:
    """A mapping file (TOML text) guessed from the uploaded files."""
    missing = _missing_tokens(book)
    date_format, why = _date_format(book)
    candidates = _candidates(book, set(missing))
    lines = ["# Suggested mapping: check every line, then import. Format: docs/mapping.md", ""]
    lines += ["[settings]"]
    if missing:
        lines.append(f'missing = {_q(missing)}       # cells that mean "no value"')
    lines.append(f"date_format = {_q(date_format)}   # {why}")
    patients_source = None
    for table in TABLES:
        best = None
        for candidate in candidates:
            chosen = _assign(candidate, table)
            score = _table_score(candidate, table, chosen)
            if best is None or score > best[0]:
                best = (score, candidate, chosen)
        block = None
        on_patients = best is not None and best[1] is patients_source
        if table in ("edss", "relapses") and patients_source is not None:
            # visits or attacks as repeated columns of the patients sheet
            block = _wide_block(table, patients_source)
        if block is None and best and best[0] >= 0.55 and not on_patients:
            block = _table_block(table, best[1], best[2], book, candidates)
            if table == "patients":
                patients_source = best[1]
        if block:
            lines += ["", *block]
        else:
            note = "required" if TABLES[table].required else "optional"
            lines += [
                "",
                f"# [{table}]: no sheet or instrument looked like it ({note}"
                + ("; written empty" if table in ("relapses", "edss", "adverse_events") else "")
                + ")",
            ]
    return "\n".join(lines) + "\n"


def _missing_tokens(book: Workbook) -> list[str]:
    seen = set()
    for sheet in book.sheets:
        for column in sheet.frame.columns:
            for v in sheet.frame[column].head(SAMPLE):
                if isinstance(v, str) and v.strip().lower() in MISSING_TOKENS:
                    seen.add(v.strip())
    return sorted(seen, key=str.lower)


def _date_format(book: Workbook) -> tuple[str, str]:
    first = second = seen = 0
    for sheet in book.sheets:
        for column in sheet.frame.columns:
            for v in sheet.frame[column].head(SAMPLE):
                match = isinstance(v, str) and re.fullmatch(
                    r"(\d{1,2})([./-])(\d{1,2})\2(\d{4})", v.strip()
                )
                if match:
                    seen += 1
                    first += int(match.group(1)) > 12
                    second += int(match.group(3)) > 12
    if second > first:
        return "mm/dd/yyyy", "text dates have the month first (a second number above 12 was seen)"
    if first:
        return "dd/mm/yyyy", "text dates have the day first (a first number above 12 was seen)"
    if not seen:
        return DEFAULT_DATE_FORMAT, "no dates typed as text were seen"
    return DEFAULT_DATE_FORMAT, "no text date told day and month apart: check this"


def _source_line(candidate: Candidate) -> str:
    parts = [f"file = {_q(candidate.sheet.file)}"]
    if candidate.sheet.name:
        parts.append(f"sheet = {_q(candidate.sheet.name)}")
    if candidate.sheet.header_row != 1 and candidate.sheet.kind == "table":
        parts.append(f"header_row = {candidate.sheet.header_row}")
    if candidate.instrument:
        parts.append(f"instrument = {_q(candidate.instrument)}")
    if candidate.event:
        parts.append(f"event = {_q(candidate.event)}")
    return "source = { " + ", ".join(parts) + " }"


def _table_block(
    table: str, candidate: Candidate, chosen: dict, book: Workbook, candidates: list[Candidate]
) -> list[str]:
    lines = [f"[{table}]", _source_line(candidate)]
    project = book.redcap.get(candidate.sheet.file)
    maps: list[str] = []
    for column in TABLES[table].columns:
        if column.name in chosen:
            name, _ = chosen[column.name]
            profile = candidate.profiles[name]
            why = f"  # {profile.label}" if profile.label and profile.label != name else ""
            born = _birth_column(candidate) if column.name == "age_at_first_dose" else None
            if born:  # the contract wants an age that agrees with the date of birth: check it
                lines.append(
                    f"age_at_first_dose = {{ column = {_q(name)}, birth_date = {_q(born)} }}"
                    "   # checked against the date of birth"
                )
                continue
            lines.append(f"{column.name} = {_q(name)}{why}")
            maps += _value_map(table, column.name, profile)
            continue
        derived = _derived(table, column.name, candidate, project, candidates)
        if derived:
            lines.append(derived)
        elif column.required and not (table == "adverse_events" and column.name == "course"):
            lines.append(f'# {column.name} = "?"   # required: no column looked like it')
    if table == "labs":
        lines += _lab_conversions(candidate, chosen)
    return lines + maps


def _derived(
    table: str,
    column: str,
    candidate: Candidate,
    project: Redcap | None,
    candidates: list[Candidate],
) -> str | None:
    """A derived value or a field kept in another REDCap event, when a source suggests one."""
    profiles = candidate.profiles
    if table != "patients":
        return None
    if column == "age_at_first_dose" and _birth_column(candidate):
        born = _q(_birth_column(candidate))
        return f"age_at_first_dose = {{ birth_date = {born} }}   # from the date of birth"
    if column == "prior_treatments":
        stems = Counter(n.split("___")[0] for n in profiles if "___" in n)
        for stem in stems:
            if re.search(
                r"prior|previous|earlier|dmt|treat",
                stem
                + " "
                + profiles[next(n for n in profiles if n.startswith(stem + "___"))].label.lower(),
            ):
                return (
                    f"prior_treatments = {{ count_ticked = {_q(stem)} }}   # ticked boxes counted"
                )
        for name, p in profiles.items():
            if p.listed > 0.2 and re.search(
                r"prior|previous|earlier|dmt", _norm(f"{name} {p.label}")
            ):
                return f"prior_treatments = {{ count_listed = {_q(name)} }}   # items counted"
    if column == "first_dose_date":
        return "first_dose_date = { earliest_infusion = true }   # the earliest infusion's date"
    if project is not None:
        # a patient field kept in another event of the same REDCap project
        for other in candidates:
            if other.sheet is not candidate.sheet or other is candidate or other.event is None:
                continue
            found = _assign(other, "patients", {candidate.columns[0]})
            if column in found and found[column][1] >= 0.7:
                return (
                    f"{column} = {{ column = {_q(found[column][0])}, event = {_q(other.event)} }}"
                    "   # kept in another event"
                )
    return None


def _birth_column(candidate: Candidate) -> str | None:
    """A column of dates of birth, when the candidate has one."""
    for name, p in candidate.profiles.items():
        if p.dates > 0.8 and re.search(r"\bbirth|\bdob\b|born", _norm(f"{name} {p.label}")):
            return name
    return None


def _value_map(table: str, column: str, profile: Profile) -> list[str]:
    allowed = enumerations().get((table, column))
    if not allowed or not profile.distinct:
        return []
    lines = []
    for value in profile.distinct:
        if value.lower() in {a.lower() for a in allowed}:
            continue
        guess = next(
            (
                target
                for fragment, target in ENUM_GUESSES.get(column, ())
                if fragment in value.lower()
                and (len(fragment) > 2 or value.lower().startswith(fragment))
            ),
            None,
        )
        if guess is None and len(value) == 1:
            guess = next((a for a in allowed if a.lower().startswith(value.lower())), None)
        if guess:
            lines.append(f"{_key(value)} = {_q(guess)}")
        else:
            lines.append(f'# {_key(value)} = "?"   # one of {", ".join(allowed)}, or "exclude"')
    return ["", f"[{table}.values.{column}]", *lines] if lines else []


def _lab_conversions(candidate: Candidate, chosen: dict) -> list[str]:
    if "test" not in chosen or "unit" not in chosen:
        return []
    seen = {
        (
            code_text(candidate.sheet.values(chosen["test"][0])[i]).lower(),
            code_text(candidate.sheet.values(chosen["unit"][0])[i]).lower(),
        )
        for i in candidate.rows
    }
    lines = []
    if ("igg", "mg/dl") in seen:
        lines += [
            "",
            "[[labs.convert]]   # IgG is stored in g/L",
            'test = "IgG"',
            'from = "mg/dL"',
            "factor = 0.01",
        ]
    for test, (_, unit) in STORED_UNITS.items():
        odd = sorted(u for t, u in seen if t == test and u not in (unit.lower(), "mg/dl", ""))
        for u in odd:
            lines += [
                "",
                f"# [[labs.convert]]   # {test} in {u}: give the factor to {unit}",
                f"# test = {_q(test)}",
                f"# from = {_q(u)}",
                "# factor = ?",
            ]
    return lines


def _wide_block(table: str, candidate: Candidate) -> list[str] | None:
    """Wide-to-long groups on the patients sheet (`EDSS 6m date` + `EDSS 6m`, …)."""
    families = _families(candidate.columns)
    value_col, date_col = (
        ("edss", "assessment_date") if table == "edss" else ("severity", "onset_date")
    )
    word = "edss" if table == "edss" else r"relapse|attack"
    dates = next(
        (
            f
            for f in families
            if re.search(word, _norm(f.template))
            and all(
                candidate.profiles[c].dates > 0.8 or candidate.profiles[c].n == 0 for c in f.columns
            )
            and any(candidate.profiles[c].n for c in f.columns)
        ),
        None,
    )
    values = next(
        (
            f
            for f in families
            if re.search(word, _norm(f.template))
            and f is not dates
            and (
                table != "edss"
                or all(
                    candidate.profiles[c].edss_scale > 0.8 or candidate.profiles[c].n == 0
                    for c in f.columns
                )
            )
        ),
        None,
    )
    if table == "relapses" and dates is None:
        return None
    if table == "edss" and values is None:
        return None
    patient = _assign(candidate, "patients").get("patient_id", (candidate.columns[0], 0))[0]
    lines = [
        f"[{table}]   # repeated columns on {candidate.sheet.title}: each group gives one row",
        _source_line(candidate),
        f"patient_id = {_q(patient)}",
    ]
    keys = (values or dates).keys
    for key in keys:
        lines += ["", f"[[{table}.repeat]]"]
        if dates is not None and key in dates.keys:
            lines.append(f"{date_col} = {_q(dates.columns[dates.keys.index(key)])}")
        elif _months(key) is not None:
            lines.append(
                f"{date_col} = {{ months_after_first_dose = {_months(key):g} }}   "
                "# no date column: approximate"
            )
        else:
            lines.append(f'# {date_col} = "?"   # no date column for {key}')
        if values is not None and key in values.keys:
            lines.append(f"{value_col} = {_q(values.columns[values.keys.index(key)])}")
    return lines
