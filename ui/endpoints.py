"""Page sections for the v2 endpoints: confirmed disability worsening and PIRA (EDSS page), adjusted
models (relapse-free survival page), B-cell repopulation between courses (safety page)."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analysis import bcells, disability, models, survival
from queries import Filters
from ui import data, privacy
from ui.components import MAX_PATIENTS_DRAWN, chart, fmt, fmt_p, sample_note
from ui.km import km_figure
from ui.settings import min_count
from ui.theme import colour, customdata, error_bars, figure, line_shape, presenting, subplots

CALLS = disability.CALLS | models.CALLS | bcells.CALLS
MONTH = 30.4375

CDW_DEF = (
    "CDW (confirmed disability worsening, fixed baseline): an EDSS assessment inside the window "
    "that is ≥ 1.5 above a baseline of 0, ≥ 1.0 above a baseline of 0.5–5.5, or ≥ 0.5 above a "
    "baseline > 5.5, confirmed by a later assessment ≥ 3 months (84 days; 6 months: 168 days) "
    "later with every assessment in between also that far above baseline. Time = months from the "
    "first dose to the earliest such worsening; without one, censored at the last assessment "
    "inside the window. Patients without a follow-up EDSS are not evaluable."
)
PIRA_DEF = (
    "RAW (relapse-associated worsening): a relapse inside the window from 90 days before the "
    "worsening to its confirmation; otherwise PIRA (progression independent of relapse activity)."
)
KM_CI_DEF = "95 % CI: exponential Greenwood (log(−log)), lifelines' default; [1, 1] where S = 1."
TERM_LABELS = {
    "age_per_10y": "Age at first dose (per 10 years)",
    "male": "Male (vs female)",
    "baseline_edss": "Baseline EDSS (per point)",
    "disease_duration_years": "Disease duration (per year)",
}


def call(kind: str, f: Filters, **params: object) -> object:
    """One endpoint call on the active dataset, cached like ui.data.call (through it once its CALLS
    hold the endpoint kinds)."""
    if kind in data.CALLS:
        return data.call(kind, f, **params)
    return _call(*data.current(), kind, f, tuple(sorted(params.items())))


@st.cache_data(show_spinner=False, max_entries=256)
def _call(location: str, version: str, kind: str, f: Filters, params: tuple) -> object:
    return CALLS[kind](data.dataset(), f, **dict(params))


def term_label(term: str) -> str:
    """A model term as a reader names it."""
    if term.startswith("subtype_"):
        return f"{term.removeprefix('subtype_')} (vs RRMS)"
    return TERM_LABELS.get(term, term)


def exploratory(f: Filters) -> str:
    return " — exploratory (filtered subgroup)" if f.is_narrowed() else ""


# --------------------------------------------------------------------------- EDSS page: CDW / PIRA
def _estimate(value: dict | None, at_risk: int, evaluable: int) -> str:
    if not evaluable:
        return "n/a (none evaluable)"
    if value is None:
        return "— (beyond follow-up)"
    if privacy.km_estimate_hidden(at_risk):
        return f"hidden (< {min_count()} at risk)"
    ci = (
        ""
        if value["ci_low"] is None or value["ci_high"] is None
        else f" ({100 * value['ci_low']:.1f}–{100 * value['ci_high']:.1f})"
    )
    return f"{100 * value['s']:.1f} %{ci}"


COUNT_COLUMNS = {
    "evaluable": "Evaluable",
    "not_evaluable": "Not evaluable",
    "events": "CDW events",
    "pira": "PIRA",
    "raw": "RAW",
}
# cells of a row that add up to a total shown elsewhere: events = PIRA + RAW, and evaluable + not
# evaluable = the subtype's patients
LINKED_COUNTS = ({"events", "pira", "raw"}, {"evaluable", "not_evaluable"})


def cdw_counts_table(d: dict, curves: dict[str, list[survival.Curve]]) -> pd.DataFrame:
    """Per definition and group: evaluable, not evaluable, CDW events, PIRA, RAW and S(12), S(24);
    in viewer mode small counts are hidden with the cells that would give them away."""
    rows = []
    for key, label in (("cdw_3m", "CDW-3m"), ("cdw_6m", "CDW-6m")):
        risk = {c.group: c.at_risk([12, 24]) for c in curves[key]}
        groups = [g for g in d[key] if g != "logrank_p"]
        name = {g: "All" if g == "all" else g for g in groups}
        hide = privacy.suppress_table(
            {name[g]: {col: d[key][g][col] for col in COUNT_COLUMNS} for g in groups},
            LINKED_COUNTS,
        )
        for g in groups:
            c = d[key][g]
            at_risk = risk.get(g) or [sum(r[i] for r in risk.values()) for i in (0, 1)]
            rows.append(
                {"Definition": label, "Group": name[g]}
                | {
                    title: privacy.shown(c[col], hide[name[g]].get(col))
                    for col, title in COUNT_COLUMNS.items()
                }
                | {
                    f"Free of CDW at {t} months (95 % CI)": _estimate(
                        c["at_months"][str(t)], at_risk[i], c["evaluable"]
                    )
                    for i, t in enumerate((12, 24))
                }
            )
    return pd.DataFrame(rows)


def cdw_section(f: Filters, s: dict) -> None:
    """Time to confirmed disability worsening (3 and 6 months) per subtype, CDW/PIRA/RAW counts, and
    one patient's EDSS timeline with the worsening, its confirmation and nearby relapses."""
    st.header("Confirmed disability worsening and PIRA" + exploratory(f))
    d = s.get("disability")
    if d is None:
        st.info(
            "No selected patient has a follow-up EDSS assessment inside the window, so "
            "confirmed disability worsening cannot be assessed."
        )
        return
    st.caption(f"{CDW_DEF} {PIRA_DEF}")
    a3, a6 = d["cdw_3m"]["all"], d["cdw_6m"]["all"]
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(
        "Evaluable patients",
        privacy.count(a3["evaluable"]),
        help=f"{privacy.count(a3['not_evaluable'])} without a follow-up EDSS (not evaluable).",
    )
    c2.metric(
        "CDW-3m events",
        privacy.pct(a3["events"], a3["evaluable"]),
        help="Patients with a worsening confirmed over 3 months, of evaluable patients.",
    )
    c3.metric(
        "PIRA (CDW-3m)",
        privacy.pct(a3["pira"], a3["events"]),
        help="Of CDW-3m events: no relapse from 90 days before the worsening to its confirmation.",
    )
    c4.metric(
        "CDW-6m events",
        privacy.pct(a6["events"], a6["evaluable"]),
        help="Patients with a worsening confirmed over 6 months, of evaluable patients.",
    )

    curves = {
        key: call("cdw_curves", f, confirm_days=days)
        for key, days in disability.CONFIRM_DAYS.items()
    }
    k = min_count()
    tabs = st.tabs(["Confirmed over 3 months (CDW-3m)", "Confirmed over 6 months (CDW-6m)"])
    for tab, (key, label) in zip(tabs, (("cdw_3m", "CDW-3m"), ("cdw_6m", "CDW-6m"))):
        with tab:
            p = d[key]["logrank_p"]
            groups = [c.group for c in curves[key]]
            if len(groups) < 2:
                st.caption("Log-rank test: n/a — one subtype selected.")
            else:
                st.markdown(
                    f"**Log-rank test across subtypes ({', '.join(groups)}):** {fmt_p(p, f)}"
                )
            fig, table, hidden = km_figure(curves[key], f"Free of {label}", "free of CDW")
            n_text = "; ".join(
                f"{g}: {privacy.count(d[key][g]['evaluable'])} evaluable, "
                f"{privacy.count(d[key][g]['events'])} events"
                for g in groups
            )
            chart(
                fig,
                table,
                f"Time to {label} (Kaplan–Meier)",
                f"Kaplan–Meier estimate of the share of patients free of {label}, per subtype; "
                f"| = censored. {CDW_DEF} Shaded band: {KM_CI_DEF} Number at risk = patients whose "
                f"time is ≥ t. {n_text}."
                + (
                    f" Shared view: each curve ends where fewer than {k} patients remain at risk."
                    if privacy.viewer()
                    else ""
                ),
                height=540,
            )
            if hidden:
                st.info(
                    f"Curve not shown for {', '.join(hidden)}: fewer than {k} patients "
                    "(shared view hides small groups)."
                )

    st.subheader("CDW, PIRA and RAW per subtype")
    st.dataframe(cdw_counts_table(d, curves), hide_index=True, key="cdw_counts")
    st.caption(
        "Evaluable: ≥ 1 follow-up EDSS inside the window. CDW events = PIRA + RAW. "
        + PIRA_DEF
        + " Free of CDW at t: Kaplan–Meier S(t) from the step function at t; '—' beyond the "
        f"group's longest time. {KM_CI_DEF}"
        + (
            f" Shared view: counts below {k} show as '< {k}'; a second count is hidden where it "
            "would give a hidden one away."
            if privacy.viewer()
            else ""
        )
    )
    cdw_timeline(f, d)


def cdw_timeline(f: Filters, d: dict) -> None:
    """One patient's EDSS over time: the worsening, its confirmation, the RAW window, relapses."""
    st.subheader("A patient's EDSS timeline")
    events = call("cdw_patients", f)
    if privacy.viewer():
        # a group of 0 evaluable has no worsening to list, so only small groups need leaving out
        small_groups = [
            g
            for g in d["cdw_3m"]
            if g not in ("all", "logrank_p") and privacy.small(d["cdw_3m"][g]["evaluable"])
        ]
        events = events[~events["subtype"].isin(small_groups)]
    if events.empty:
        st.info("No selected patient has a confirmed disability worsening to show.")
        return
    drawn, note = _sample(events)
    drawn = drawn.assign(patient=privacy.anonymous_ids(drawn["patient_id"]).to_numpy())
    drawn = drawn.sort_values("patient", key=lambda x: x.map(_natural)).reset_index(drop=True)
    choice = st.selectbox(
        "Patient with a CDW-3m event",
        drawn["patient"].tolist(),
        key="cdw_patient",
        help="Patients whose EDSS worsening was confirmed over 3 months. "
        + (note or f"All {len(drawn):,} such patients are listed."),
    )
    row = drawn[drawn["patient"] == choice].iloc[0]
    points = data.run("cdw_timeline", f, patient_id=row["patient_id"])
    edss = points[points["kind"] != "relapse"]
    relapses = points[points["kind"] == "relapse"]
    baseline = float(edss.loc[edss["kind"] == "baseline", "edss"].iloc[0])
    step = 1.5 if baseline == 0 else 1.0 if baseline <= 5.5 else 0.5
    worsening, confirm = float(row["months_3m"]), float(row["confirm_months_3m"])
    raw_start = worsening - 90 / MONTH

    # the shaded window and the two lines as add_vrect/add_hline lay them out, written into the
    # layout at once (ui.theme.figure)
    annotation = {"showarrow": False, "xref": "x domain", "yref": "y"}
    shapes = [
        {
            "type": "rect", "x0": raw_start, "x1": confirm, "xref": "x", "y0": 0, "y1": 1,
            "yref": "y domain", "fillcolor": "rgba(213, 94, 0, 0.10)", "line": {"width": 0},
        },
        line_shape("y", baseline, {"color": "#888888", "dash": "dot"}),
        line_shape("y", baseline + step, {"color": "#D55E00", "dash": "dash"}),
    ]
    annotations = [
        {
            "text": "RAW window", "showarrow": False, "x": min(raw_start, confirm),
            "xanchor": "left", "xref": "x", "y": 1, "yanchor": "top", "yref": "y domain",
        },
        annotation | {
            "text": f"baseline {baseline:g}", "x": 1, "xanchor": "right", "y": baseline,
            "yanchor": "top",
        },
        annotation | {
            "text": f"worsening threshold (+{step:g})", "x": 1, "xanchor": "right",
            "y": baseline + step, "yanchor": "bottom",
        },
    ]
    traces = [
        {
            "type": "scatter",
            "x": edss["months"].to_numpy(),
            "y": edss["edss"].to_numpy(),
            "mode": "lines+markers",
            "name": "EDSS",
            "line": {"color": colour(row["subtype"]), "width": 2.5},
            "hovertemplate": "month %{x:.1f}: EDSS %{y:.1f}<extra></extra>",
        }
    ]
    marks = [(worsening, "Worsening", "triangle-up"), (confirm, "Confirmed (3 months)", "star")]
    if pd.notna(row["months_6m"]):
        # the 6-month confirmed worsening may be a later one than the 3-month one
        six, confirm6 = float(row["months_6m"]), float(row["confirm_months_6m"])
        if six != worsening:
            marks.append((six, "Worsening (confirmed over 6 months)", "triangle-up-open"))
        if confirm6 == confirm:
            marks[1] = (confirm, "Confirmed (3 and 6 months)", "star")
        else:
            marks.append((confirm6, "Confirmed (6 months)", "star-diamond"))
    for x, name, symbol in marks:
        y = edss.loc[(edss["months"] - x).abs().idxmin(), "edss"]
        traces.append(
            {
                "type": "scatter",
                "x": [x],
                "y": [y],
                "mode": "markers",
                "name": name,
                "marker": {
                    "symbol": symbol,
                    "size": 16,
                    "color": "#D55E00",
                    "line": {"width": 1, "color": "#333333"},
                },
                "hovertemplate": f"{name}: month %{{x:.1f}}<extra></extra>",
            }
        )
    if not relapses.empty:
        traces.append(
            {
                "type": "scatter",
                "x": relapses["months"].to_numpy(),
                "y": [edss["edss"].max() + 0.6] * len(relapses),
                "mode": "markers",
                "name": "Relapse",
                "marker": {"symbol": "x", "size": 12, "color": "#CC0000"},
                "hovertemplate": "relapse at month %{x:.1f}<extra></extra>",
            }
        )
    fig = figure(
        traces,
        {
            "shapes": shapes,
            "annotations": annotations,
            "xaxis": {"title": {"text": "Months since first dose"}, "rangemode": "tozero"},
            "yaxis": {
                "title": {"text": "EDSS"},
                "range": [max(0, edss["edss"].min() - 1), min(10, edss["edss"].max() + 1.2)],
            },
        },
    )
    table = points.assign(patient=choice)[["patient", "kind", "months", "edss"]]
    kind = "RAW (relapse-associated)" if row["relapse_associated_3m"] else "PIRA"
    chart(
        fig,
        table,
        "EDSS timeline with confirmed worsening",
        f"{choice}: EDSS at each assessment inside the window (month 0 = baseline). "
        f"Worsening at month {worsening:.1f}, confirmed over 3 months at month {confirm:.1f}"
        + (
            f" and over 6 months at month {float(row['confirm_months_6m']):.1f}"
            if pd.notna(row["confirm_months_6m"])
            else ""
        )
        + f"; classed {kind}. Shaded: from 90 days before the worsening to its confirmation, where "
        "a relapse (×) makes the worsening relapse-associated. " + (note or ""),
        height=420,
    )


def _sample(events: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    if len(events) <= MAX_PATIENTS_DRAWN:
        return events, ""
    import hashlib

    keys = events["patient_id"].map(lambda x: hashlib.sha256(str(x).encode()).hexdigest())
    drawn = events.loc[keys.sort_values().index[:MAX_PATIENTS_DRAWN]]
    return drawn, sample_note(len(drawn), len(events))


def _natural(label: str) -> tuple:
    head, _, tail = str(label).rpartition(" ")
    return (head, int(tail)) if tail.isdigit() else (label, 0)


# --------------------------------------------------------------- relapse-free survival: Cox and NB
def models_section(f: Filters, s: dict) -> None:
    """Adjusted hazard ratios for time to first relapse (Cox), rate ratios for relapses (negative
    binomial or Poisson), events per variable, and the proportional-hazards check."""
    st.header("Adjusted models" + exploratory(f))
    m = s.get("models") or {}
    cox, rate = m.get("cox_relapse"), m.get("relapse_rate")
    st.caption(
        "Covariates: age at first dose (per 10 years), male sex, baseline EDSS, subtype versus "
        "RRMS (when RRMS and another subtype are selected), disease duration (when recorded for "
        "every selected patient). Cox model of time to first relapse (lifelines, Efron ties); "
        "relapse counts with log(patient-years) offset by negative binomial (NB2, statsmodels, joint "
        "maximum likelihood), Poisson when NB does not converge. 95 % Wald CI (± 1.959964 SE), "
        "Wald p."
        + (
            " Filtered subgroup: exploratory, not a pre-specified analysis."
            if f.is_narrowed()
            else ""
        )
    )
    if cox is None and rate is None:
        st.info(_no_model_reason(s))
        return
    k = min_count()
    c1, c2, c3, c4 = st.columns(4)
    if rate:
        c4.metric(
            "Relapse-rate model",
            "NB2" if rate["model"] == "negative_binomial" else "Poisson",
            help="Negative binomial (NB2) unless it does not converge; then Poisson.",
        )
    if cox:
        c1.metric("Patients in the Cox model", privacy.count(cox["n"]))
        c2.metric("First relapses (events)", privacy.count(cox["events"]))
        epv = cox["events_per_variable"]
        c3.metric(
            "Events per variable",
            "hidden" if privacy.small(cox["events"]) else fmt(epv, 1),
            help="Events / number of coefficients; below 10 the estimates are unstable.",
        )
        if epv < 10:
            shown = "Fewer than 10" if privacy.small(cox["events"]) else f"Only {fmt(epv, 1)}"
            st.warning(
                f"{shown} events per variable (10 or more is the usual minimum): the hazard ratios "
                "are imprecise and may be biased away from 1; read them as exploratory."
            )
    rows = _ratio_rows(cox, "hr", "Hazard ratio") + _ratio_rows(rate, "rr", "Rate ratio")
    table = pd.DataFrame(rows)
    fig = _forest(table)
    rate_name = {"negative_binomial": "negative binomial (NB2)", "poisson": "Poisson"}.get(
        (rate or {}).get("model"), ""
    )
    chart(
        fig,
        table,
        "Adjusted hazard and rate ratios",
        "Forest plot, log scale; 1 = no difference. Left: hazard ratios for time to first relapse "
        + (
            f"(Cox; n = {privacy.count(cox['n'])}, {privacy.count(cox['events'])} events). "
            if cox
            else "(not estimable). "
        )
        + "Right: relapse rate ratios "
        + (
            f"({rate_name}; n = {privacy.count(rate['n'])} patients with follow-up time)."
            if rate
            else "(not estimable)."
        )
        + " Bars: 95 % Wald CI.",
        height=160 + 55 * max(len(table["Term"].unique()), 1),
    )
    wide = table.pivot_table(
        index="Term", columns="Model", values=["Estimate (95 % CI)", "p"], aggfunc="first", sort=False
    )
    wide.columns = [f"{model}: {what}".replace(": Estimate", "") for what, model in wide.columns]
    st.dataframe(
        wide.reindex(index=list(dict.fromkeys(table["Term"])), columns=sorted(wide.columns)),
        key="model_terms",
    )
    st.caption(
        "Hazard ratio: relative hazard of a first relapse per unit of the covariate, the others "
        "held fixed; rate ratio: relative relapse rate. "
        + (f"Relapse-rate model: {rate_name}." if rate else "")
    )
    if rate is None:
        st.info("Relapse-rate model not estimable: " + _no_model_reason(s))
    if cox is None:
        st.info("Cox model not estimable: " + _no_model_reason(s))
        return
    st.subheader("Proportional-hazards check")
    ph = call("ph_check", f)
    if ph is None:
        return
    ph = ph.assign(Term=ph["term"].map(term_label))
    questionable = ph[ph["p"] < 0.05]
    if questionable.empty:
        st.success(
            "No evidence against proportional hazards: every covariate's Schoenfeld-residual "
            "test has p ≥ 0.05."
        )
    else:
        st.warning(
            "Proportional hazards questionable for "
            + ", ".join(f"{r.Term} ({fmt_p(r.p, f)})" for r in questionable.itertuples())
            + ": its hazard ratio averages an effect that changes over time."
        )
    st.dataframe(
        ph.assign(p=ph["p"].map(lambda p: fmt_p(p, f)))[["Term", "test_statistic", "p"]].rename(
            columns={"test_statistic": "χ² (1 df)"}
        ),
        hide_index=True,
        key="ph_check",
    )
    st.caption(
        "lifelines proportional_hazard_test (scaled Schoenfeld residuals against the rank of "
        "time), one test per covariate; p < 0.05 flags a covariate whose effect may change "
        "over time."
        + (f" Shared view: counts below {k} are hidden." if privacy.viewer() else "")
    )


def _ratio_rows(model: dict | None, key: str, name: str) -> list[dict]:
    if not model:
        return []
    return [
        {
            "Model": name,
            "Term": term_label(term),
            "term": term,
            "ratio": t[key],
            "ci_low": t["ci_low"],
            "ci_high": t["ci_high"],
            "p_value": t["p"],
            "Estimate (95 % CI)": (
                f"{fmt(t[key], 2)} ({fmt(t['ci_low'], 2)}–{fmt(t['ci_high'], 2)})"
            ),
            "p": fmt_p(t["p"], Filters()),
        }
        for term, t in model["terms"].items()
    ]


def _forest(table: pd.DataFrame) -> go.Figure:
    # two panels sharing the terms' axis, a line at 1 on each drawn panel (as add_vline draws it)
    order = list(dict.fromkeys(table["Term"]))[::-1] if not table.empty else []
    layout = subplots(
        rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.04,
        subplot_titles=["<b>Hazard ratio</b> (first relapse)", "<b>Rate ratio</b> (relapses)"],
    )
    for axis in ("yaxis", "yaxis2"):
        layout[axis] |= {"categoryorder": "array", "categoryarray": order}
    for title in layout["annotations"]:
        title["font"] = {"size": 18 if presenting() else 13}
    shapes = []
    traces = []
    for col, name, mark in ((1, "Hazard ratio", "#0072B2"), (2, "Rate ratio", "#009E73")):
        rows = (
            table[table["Model"] == name].dropna(subset=["ratio", "ci_low", "ci_high"])
            if not table.empty
            else table
        )
        if rows.empty:
            continue
        axis = "" if col == 1 else str(col)
        traces.append(
            {
                "type": "scatter",
                "x": rows["ratio"].to_numpy(),
                "y": rows["Term"].to_numpy(),
                "mode": "markers",
                "name": name,
                "showlegend": False,
                "marker": {"symbol": "square", "size": 11, "color": mark},
                "error_x": error_bars(
                    rows["ratio"], rows["ci_low"], rows["ci_high"], color=mark, thickness=2, width=6
                ),
                "customdata": rows[["Estimate (95 % CI)", "p"]].to_numpy(),
                "hovertemplate": "<b>%{y}</b><br>" + name + " %{customdata[0]}<br>%{customdata[1]}"
                "<extra></extra>",
                "xaxis": f"x{axis}",
                "yaxis": f"y{axis}",
            }
        )
        shapes.append(line_shape("x", 1, {"color": "#888888", "dash": "dot"}, axis))
        layout[f"xaxis{axis}"] |= {"type": "log", "title": {"text": f"{name} (log scale)"}}
    return figure(traces, layout | ({"shapes": shapes} if shapes else {}))


def _no_model_reason(s: dict) -> str:
    """Why the models are null, in the contract's words."""
    return (
        "the models need at least 2 events, at least 2 × (coefficients + 1) patients, and a fit "
        "that converges — a covariate that is the same for every selected patient (for example "
        "a single sex selected) cannot be estimated. Widen the filters."
    )


# ------------------------------------------------------------------ safety page: B cells and IgG
def bcell_section(f: Filters, s: dict) -> None:
    """CD19 and IgG by months since the start of the last course, and the share of patients with
    repopulated B cells, when the labs hold CD19."""
    st.header("B-cell repopulation between courses")
    if not data.has("labs"):
        st.info("This dataset has no labs table, so B-cell (CD19) repopulation cannot be shown.")
        return
    rows = call("bcell_rows", f)
    cd19 = rows[rows["test"] == "CD19"]
    if cd19.empty:
        st.info(
            "The dataset's labs hold no CD19 values inside the selected patients' follow-up "
            "(test 'CD19'), so B-cell repopulation cannot be shown."
        )
        return
    k = min_count()
    unit = cd19["unit"].iloc[0]  # bcell_rows keeps one unit per test, the one most samples have
    igg = rows[(rows["test"] == "IgG")]
    if privacy.viewer():  # quartiles of fewer than k patients come close to their own values
        cd19 = cd19[~cd19["patients"].map(privacy.small)]
        igg = igg[~igg["patients"].map(privacy.small)]
    rule = (
        "≥ 1 % of lymphocytes" if unit == "%" else "≥ 10 cells/µL" if unit == "cells/µL" else None
    )

    # CD19 and IgG side by side; threshold lines as add_hline(row=, col=) draws them: on a panel
    # with a trace only
    title_font = {"size": 18 if presenting() else 13}
    layout = subplots(
        rows=1, cols=2, horizontal_spacing=0.1,
        subplot_titles=[
            f"<b>CD19</b> ({unit})",
            f"<b>IgG</b> ({igg['unit'].iloc[0] if len(igg) else 'n/a'})",
        ],
    )
    layout["yaxis"]["rangemode"] = "tozero"
    for title in layout["annotations"]:
        title["font"] = title_font
    shapes = []
    traces = []
    for col, frame, mark in ((1, cd19, "#0072B2"), (2, igg, "#009E73")):
        if frame.empty:
            continue
        axis = "" if col == 1 else str(col)
        traces.append(
            {
                "type": "scatter",
                "x": frame["month"].to_numpy(),
                "y": frame["median"].to_numpy(),
                "mode": "lines+markers",
                "showlegend": False,
                "line": {"color": mark, "width": 2.5},
                "marker": {"size": 8},
                "error_y": error_bars(
                    frame["median"], frame["q1"], frame["q3"], color=mark, thickness=1.5
                ),
                "customdata": customdata(
                    frame["q1"], frame["q3"], [privacy.count(n) for n in frame["patients"]]
                ),
                "hovertemplate": "month %{x}: median %{y:.2f} (IQR %{customdata[0]:.2f}–"
                "%{customdata[1]:.2f}), %{customdata[2]} patients<extra></extra>",
                "xaxis": f"x{axis}",
                "yaxis": f"y{axis}",
            }
        )
        layout[f"xaxis{axis}"] |= {
            "title": {"text": "Months since the last course began"}, "dtick": 1
        }
    lines = []
    if rule and unit == "cells/µL":
        lines.append((cd19, "", 10, "10 cells/µL"))
    elif rule:
        lines.append((cd19, "", 1, "1 %"))
    if len(igg) and igg["unit"].iloc[0] == "g/L":
        lines.append((igg, "2", f.igg_threshold, f"low IgG < {f.igg_threshold:g} g/L"))
    for frame, axis, y, text in lines:
        if frame.empty:
            continue
        shapes.append(line_shape("y", y, {"color": "#D55E00", "dash": "dash"}, axis))
        layout["annotations"].append(
            {
                "text": text, "font": title_font, "showarrow": False, "x": 1,
                "xanchor": "right", "xref": f"x{axis} domain", "y": y, "yanchor": "bottom",
                "yref": f"y{axis}",
            }
        )
    fig = figure(traces, layout | ({"shapes": shapes} if shapes else {}))
    table = pd.concat([cd19, igg])[
        ["test", "unit", "month", "samples", "patients", "q1", "median", "q3"]
    ]
    for column in ("samples", "patients"):
        table[column] = privacy.counts(table[column])
    chart(
        fig,
        table,
        "CD19 and IgG by months since the last course",
        "Median (points) and interquartile range (bars) of every CD19 and IgG value inside the "
        "window, by whole months since the first dose of the patient's latest course before the "
        "sample (0 = within the first month; a sample on an infusion day counts with the course "
        "before). n per month: "
        + ", ".join(f"{int(r.month)}: {privacy.count(r.patients)}" for r in cd19.itertuples())
        + " patients (CD19)."
        + (
            f" Shared view: months with fewer than {k} patients are left out."
            if privacy.viewer()
            else ""
        ),
        height=420,
    )
    if rule is None:
        st.info(
            f"CD19 is recorded in '{unit}': repopulation is defined for % of lymphocytes "
            "(≥ 1 %) or cells/µL (≥ 10), so the share repopulated is not shown."
        )
        return
    share = cd19[cd19["classified_patients"] > 0].copy()
    hide = pd.Series(
        [
            privacy.breakdown_hidden([(r.repopulated_patients, r.classified_patients)])
            for r in share.itertuples()
        ],
        index=share.index,
        dtype=bool,
    )
    share["label"] = [
        privacy.pct(int(r.repopulated_patients), int(r.classified_patients))
        for r in share.itertuples()
    ]
    drawn = share[~hide]
    bar = {
        "type": "bar",
        "x": drawn["month"].to_numpy(),
        "y": drawn["repopulated_pct"].to_numpy(),
        "marker": {"color": "#0072B2"},
        "error_y": error_bars(
            drawn["repopulated_pct"], drawn["ci_low"], drawn["ci_high"], color="#333333"
        ),
        "customdata": drawn["label"].to_numpy(),
        "hovertemplate": "month %{x}: %{y:.1f} % repopulated (%{customdata})<extra></extra>",
    }
    # n under each month rather than on the bar, where the CI bar would cross it
    xaxis = {
        "title": {"text": "Months since the last course began"},
        "tickvals": share["month"].tolist(),
        "ticktext": [f"{int(m)}<br>{lab}" for m, lab in zip(share["month"], share["label"])],
    }
    if len(share):
        xaxis["range"] = [share["month"].min() - 0.6, share["month"].max() + 0.6]
    fig = figure(
        [bar],
        {
            "xaxis": xaxis,
            "yaxis": {"title": {"text": "Patients repopulated (%)"}, "range": [0, 105]},
        },
    )
    table = share[
        [
            "month",
            "repopulated_patients",
            "classified_patients",
            "repopulated_pct",
            "ci_low",
            "ci_high",
        ]
    ].copy()
    if privacy.viewer():
        table.loc[hide.to_numpy(), ["repopulated_pct", "ci_low", "ci_high"]] = None
        table["repopulated_patients"] = share["label"].to_numpy()
        table["classified_patients"] = privacy.counts(table["classified_patients"])
    chart(
        fig,
        table,
        "Share of patients with repopulated B cells",
        f"Patients with a CD19 value {rule} in that month since their last course began, of "
        "patients with a CD19 value then; 95 % CI: exact (Clopper–Pearson). "
        + (
            f"Shared view: months where the count or its complement is below {k} are not drawn."
            if privacy.viewer()
            else ""
        ),
        height=380,
    )
