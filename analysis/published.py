"""The published figures (analysis/published.json) side by side with a dataset's summary.

The figures are those of Nabiuni et al. 2023 (the citation is in the data file); the paper rounds some
percentages and truncates others (10/43 = 23.26 % is printed 23.2 %), so either reading is a match.
"""

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

PUBLISHED: dict = json.loads((Path(__file__).with_name("published.json")).read_text("utf-8"))


@dataclass(frozen=True)
class Comparison:
    """One panel row. ``counts``: the counts the computed text rests on (viewer mode hides the row
    when one is small); ``cells`` and ``cell``: a per-subtype figure, hidden by its row of cells."""

    figure: str
    published: str
    computed: str
    match: bool
    counts: tuple[int, ...] = ()
    cells: dict[str, tuple[int, int | None]] = field(default_factory=dict)
    cell: str | None = None


def near(value: float | None, published: float, digits: int) -> bool:
    """The paper rounds some figures and truncates others: either reading counts as a match."""
    if value is None:
        return False
    scaled = value * 10**digits
    return round(value, digits) == published or math.floor(scaled + 1e-9) / 10**digits == published


def _p(p: float | None) -> str:
    if p is None:
        return "p n/a"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def compare(full: dict, followup_range: tuple[float, float] | None) -> list[Comparison]:
    """The panel for the summary of all patients (no filters) and their follow-up range (months)."""
    pub = PUBLISHED
    fb = full["patients"]["by_subtype"]
    rows = [
        Comparison("Patients", str(pub["patients"]), f"{full['patients']['total']:,}",
                   full["patients"]["total"] == pub["patients"], counts=(full["patients"]["total"],)),
        Comparison(
            "Patients by subtype (RRMS / SPMS / NMOSD)",
            " / ".join(str(n) for n in pub["by_subtype"].values()),
            " / ".join(f"{fb.get(g, 0):,}" for g in pub["by_subtype"]),
            all(fb.get(g, 0) == n for g, n in pub["by_subtype"].items()),
            counts=tuple(fb.values()),
        ),
    ]
    if full["age_mean"] is None:
        return rows
    lo, hi = followup_range or (math.nan, math.nan)
    rows += [
        Comparison("Mean age at first dose, years", f"{pub['age_mean']}", f"{full['age_mean']:.1f}",
                   near(full["age_mean"], pub["age_mean"], 1)),
        Comparison("Female", f"{pub['female_pct']} %", f"{full['female_pct']:.1f} %",
                   near(full["female_pct"], pub["female_pct"], 1)),
        Comparison("Mean follow-up, months", f"{pub['followup_mean']}",
                   f"{full['followup_months_mean']:.1f}",
                   near(full["followup_months_mean"], pub["followup_mean"], 1)),
        Comparison("Follow-up range, months", "–".join(str(x) for x in pub["followup_range"]),
                   f"{lo:.1f}–{hi:.1f}", [round(lo), round(hi)] == pub["followup_range"]),
        Comparison("Doses administered", str(pub["doses"]), f"{full['doses_total']:,}",
                   full["doses_total"] == pub["doses"], counts=(full["doses_total"],)),
    ]
    attacked = full["relapses"]["patients_with_relapse"]
    cells = {g: (attacked[g], fb[g]) for g in fb}
    for g, p in pub["attacked"].items():
        got = attacked.get(g)
        share = 100 * (got or 0) / fb[g] if fb.get(g) else None
        rows.append(Comparison(
            f"{g} patients with ≥ 1 attack", f"{p['n']} ({p['pct']:.{p['digits']}f} %)",
            "n/a" if got is None else f"{got} ({share:.1f} %)",
            got == p["n"] and near(share, p["pct"], p["digits"]), cells=cells, cell=g,
        ))
    app = full["relapses"]["attacks_per_patient"]
    shown = [str(a) for a in pub["attacks_per_patient"]]
    rows += [
        Comparison(
            "Attacked patients with " + " / ".join(shown) + " attacks",
            " / ".join(str(n) for n in pub["attacks_per_patient"].values()),
            " / ".join(f"{app.get(a, 0):,}" for a in shown)
            + ("" if set(app) <= set(shown) else " (and more)"),
            app == pub["attacks_per_patient"], counts=tuple(app.values()),
        ),
        Comparison("Attacks", str(pub["attacks"]), f"{full['relapses']['total']:,}",
                   full["relapses"]["total"] == pub["attacks"], counts=(full["relapses"]["total"],)),
        Comparison("Relapse-free", f"{pub['relapse_free_pct']} %",
                   f"{full['relapses']['relapse_free_pct']:.1f} %",
                   near(full["relapses"]["relapse_free_pct"], pub["relapse_free_pct"], 1),
                   counts=(attacked["all"], full["patients"]["total"] - attacked["all"])),
    ]
    for g, p in pub["edss_change"].items():
        e = full["edss_change"].get(g) or {}
        mean, p_value = e.get("mean"), e.get("p_ttest")
        rows.append(Comparison(
            f"{g} EDSS change, last − baseline (t-test p)", f"{p['mean']:+.2f} (p = {p['p_ttest']:g})",
            "n/a" if mean is None else f"{mean:+.2f} ({_p(p_value)})",
            mean is not None and round(mean, 2) == p["mean"]
            and p_value is not None and round(p_value, p["digits"]) == p["p_ttest"],
        ))
    mri = full["mri"] or {}
    for label, key in (("new T2", "new_t2_patients"), ("Gd-enhancing", "gd_patients")):
        rows.append(Comparison(
            f"Patients with {label} lesions", str(pub[key]),
            f"{mri[key]:,}" if mri else "n/a (no MRI table)", mri.get(key) == pub[key],
            counts=(mri[key],) if mri else (),
        ))
    igg = full["igg_low"] or {}
    cells = {g: (igg[g]["n"], igg[g]["tested"]) for g in fb if g in igg}
    for g, p in pub["igg_low_pct"].items():
        cell = igg.get(g)
        got = None if cell is None else cell["pct"]
        rows.append(Comparison(
            f"{g} low IgG (< {pub['igg_threshold_g_l']:.1f} g/L), % of tested",
            "none" if p["pct"] == 0 else f"{p['pct']:.{p['digits']}f} %",
            "n/a (no labs table)" if not igg else "n/a" if got is None
            else f"{cell['n']} of {cell['tested']} ({got:.1f} %)",
            got is not None and near(got, p["pct"], p["digits"]), cells=cells, cell=g,
        ))
    safety = full["safety"]
    opportunistic = safety["opportunistic_infections"]
    rows += [
        Comparison("Opportunistic infections",
                   "none" if pub["opportunistic_infections"] == 0 else str(pub["opportunistic_infections"]),
                   "n/a" if opportunistic is None else f"{opportunistic:,}",
                   opportunistic == pub["opportunistic_infections"],
                   counts=() if opportunistic is None else (opportunistic,)),
        Comparison("Adverse events", f"{pub['adverse_events']} in {pub['doses']} doses",
                   f"{safety['events']} in {full['doses_total']} doses",
                   safety["events"] == pub["adverse_events"] and full["doses_total"] == pub["doses"],
                   counts=(safety["events"],)),
    ]
    return rows
