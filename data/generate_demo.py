#!/usr/bin/env python3
"""Deterministic generator of a synthetic rituximab cohort dataset (data contract v1).

    python data/generate_demo.py [--patients N] [--seed S] [--out DIR]

Writes one parquet file per contract table (patients, infusions, relapses, edss, mri, labs,
adverse_events, engagement) into DIR (default: data/demo next to this script).

The data are SYNTHETIC. No real patient is represented. With the default 99 patients the dataset,
computed with the contract's definitions (docs/data-dictionary.md), reproduces every published
figure of the study (Nabiuni et al., IJVLMS 2023;14(3):206-215; checked in
tests/test_demo_figures.py): subtype counts,
mean age, sex ratio, follow-up, 818 doses, relapse counts, EDSS change means and t-test p-values,
MRI activity, low IgG, and the two adverse events.

How the published figures are met: every "how many patients have X" figure is allocated exactly
(the published proportion times the group size, rounded), means are nudged to their exact target
sums, and the EDSS changes are drawn from fixed multisets (below) whose mean and one-sample t-test
p-value match the paper. Any other --patients N uses the same code path, so a scaled dataset has the
same per-patient distributions (subtype mix, ~8.3 doses per patient, relapse rates, EDSS every
~6 months, MRI yearly, labs ~6-monthly). Everything is vectorised numpy (no per-patient loops);
100,000 patients take a few seconds.

Rerunning with the same arguments gives byte-identical parquet files (fixed seed, fixed row order,
pyarrow tables written directly, no timestamps in the metadata).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

DEFAULT_PATIENTS = 99
DEFAULT_SEED = 20201205  # arbitrary fixed seed (the preprint's month)
DEFAULT_OUT = Path(__file__).resolve().parent / "demo"

MONTH = 30.4375  # days per month, as in the contract
YEAR = 365.25
SUBTYPES = ("RRMS", "SPMS", "NMOSD")

# ---------------------------------------------------------------------------------------------
# Published figures (analysis/published.json). Proportions are applied to any cohort size.
# ---------------------------------------------------------------------------------------------
PUB_SUBTYPE_COUNTS = {"RRMS": 42, "SPMS": 43, "NMOSD": 14}           # published
PUB_FEMALE = 67 / 99                                                  # published (67.7 %)
PUB_AGE_MEAN = 39.5                                                   # published
PUB_FOLLOWUP_MONTHS_MEAN = 20.4                                       # published; range 12-40
FOLLOWUP_MIN_DAYS = 366        # 12 months = 365.25 days -> at least 366 whole days
FOLLOWUP_MAX_DAYS = 1217       # 40 months = 1217.5 days
PUB_COURSES_PER_PATIENT = 409 / 99   # 818 doses published, two 500 mg doses per course
DOSE_MG = 500.0                      # published regimen: 500 mg IV twice, 14 days apart
SECOND_DOSE_DAYS = 14                # published
PUB_ATTACKED = {"RRMS": 8 / 42, "SPMS": 10 / 43, "NMOSD": 1 / 14}     # published
PUB_ATTACK_COUNTS = {1: 13 / 19, 2: 4 / 19, 3: 2 / 19}                # published (27 attacks)
PUB_MRI_NEW_T2 = 9 / 99                                               # published
PUB_MRI_GD = 4 / 99                                                   # published
PUB_IGG_TESTED = {"RRMS": 1.0, "SPMS": 1.0, "NMOSD": 10 / 14}         # published denominators
PUB_IGG_LOW = {"RRMS": 0.0, "SPMS": 6 / 43, "NMOSD": 1 / 10}          # published (< 7.0 g/L)
PUB_FLUSHING_PER_DOSE = 1 / 818                                       # published
PUB_THROMBOCYTOPENIA_PER_PATIENT = 1 / 99                             # published
THROMBO_NADIR = 11.5                                                  # published (x10^9/L)

# EDSS change (last follow-up minus baseline), in EDSS points. The paper reports only the means
# and p-values (RRMS -0.32, p 0.06; SPMS +0.19, p 0.23; NMOSD -0.57, p 0.004); the individual
# changes are INVENTED multisets chosen so that mean (2 dp) and scipy ttest_1samp p (2/3 dp) match:
#   RRMS  n=42 sum -13.5 -> mean -0.3214, p 0.0584
#   SPMS  n=43 sum  +8.0 -> mean +0.1860, p 0.2293
#   NMOSD n=14 sum  -8.0 -> mean -0.5714, p 0.0041
_EDSS_STEPS = np.array([-2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0])
EDSS_CHANGE_MULTISET = {
    "RRMS": np.repeat(_EDSS_STEPS, [4, 4, 8, 5, 13, 1, 2, 3, 2]),
    "SPMS": np.repeat(_EDSS_STEPS, [1, 3, 4, 4, 12, 7, 5, 4, 3]),
    "NMOSD": np.repeat(_EDSS_STEPS, [0, 2, 4, 3, 4, 1, 0, 0, 0]),
}

# ---------------------------------------------------------------------------------------------
# INVENTED values (not reported by the paper), chosen to be plausible.
# ---------------------------------------------------------------------------------------------
STUDY_END = np.datetime64("2020-10-31")      # invented: last follow-up visits Aug-Oct 2020
AGE_BY_SUBTYPE = {"RRMS": (35.0, 8.5), "SPMS": (45.0, 8.5), "NMOSD": (37.0, 10.0)}  # invented SDs
FEMALE_ODDS = {"RRMS": 2.2, "SPMS": 1.6, "NMOSD": 5.0}      # invented: NMOSD more often female
BASELINE_EDSS = {"RRMS": [2.0, 2.5, 3.0, 3.5], "SPMS": [5.0, 5.5, 6.0, 6.5], "NMOSD": [3.5, 4.0, 4.5]}
DISEASE_DURATION_MEAN = {"RRMS": 5.5, "SPMS": 9.0, "NMOSD": 4.5}  # invented; overall ~7 years
SITES = np.array(["Tehran", "Isfahan"])      # invented centre names
SITE_P = np.array([0.6, 0.4])                # invented
COURSE_INTERVAL_DAYS = (165, 200)            # invented spread around "every 6 months"
RELAPSE_SEVERITY = np.array(["mild", "moderate", "severe"])
SEVERITY_P = {"RRMS": [0.45, 0.40, 0.15], "SPMS": [0.40, 0.45, 0.15], "NMOSD": [0.20, 0.50, 0.30]}
EDSS_VISIT_DAYS = 182.625                    # invented: follow-up EDSS about every 6 months
MRI_VISIT_DAYS = 365.25                      # invented: MRI about yearly
LAB_VISIT_DAYS = 182.625                     # invented: labs about every 6 months
# Thrombocytopenia recovery curve (days after onset, platelets x10^9/L): invented apart from the
# published nadir 11.5 and "back to normal within 4 months".
THROMBO_RECOVERY = [(0, THROMBO_NADIR), (7, 38.0), (21, 84.0), (45, 131.0), (75, 172.0)]
SKYPE_PERIOD_DAYS = MONTH                    # invented: monthly Skype education sessions
WHATSAPP_RATE_MEAN = 0.9                     # invented: WhatsApp contacts per patient-month


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
def _expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For per-patient counts, return (patient index, 0-based index within patient) per row."""
    counts = np.asarray(counts, dtype=np.int64)
    pidx = np.repeat(np.arange(counts.size), counts)
    starts = np.cumsum(counts) - counts
    k = np.arange(pidx.size) - np.repeat(starts, counts)
    return pidx, k


def _pick(rng: np.random.Generator, weights: np.ndarray, k: int) -> np.ndarray:
    """Weighted sampling of exactly k items without replacement (Efraimidis-Spirakis); bool mask."""
    n = weights.size
    mask = np.zeros(n, dtype=bool)
    k = int(min(max(k, 0), int((weights > 0).sum())))
    if k == 0:
        return mask
    u = rng.random(n)
    with np.errstate(divide="ignore"):
        key = np.where(weights > 0, np.log(u) / np.where(weights > 0, weights, 1.0), -np.inf)
    mask[np.argsort(-key, kind="stable")[:k]] = True
    return mask


def _nudge_to_total(rng, values, lo, hi, target) -> np.ndarray:
    """Add +-1 to randomly chosen integer values (kept within [lo, hi]) until they sum to target."""
    values = values.astype(np.int64).copy()
    lo = np.broadcast_to(lo, values.shape)
    hi = np.broadcast_to(hi, values.shape)
    for _ in range(10_000):
        diff = int(target - values.sum())
        if diff == 0:
            return values
        cand = np.flatnonzero(values < hi) if diff > 0 else np.flatnonzero(values > lo)
        if cand.size == 0:
            raise RuntimeError("cannot reach target total")
        chosen = rng.choice(cand, size=min(abs(diff), cand.size), replace=False)
        values[chosen] += np.sign(diff)
    raise RuntimeError("cannot reach target total")


def _alloc(n: int, frac: float) -> int:
    return int(round(n * frac))


def _round_half(x: np.ndarray) -> np.ndarray:
    return np.round(x * 2.0) / 2.0


def _dates(first: np.ndarray, pidx: np.ndarray, days: np.ndarray) -> pa.Array:
    d = first[pidx] + days.astype("timedelta64[D]")
    return pa.array(d.astype("datetime64[D]"), type=pa.date32())


def _take(values, idx: np.ndarray) -> pa.Array:
    """String column: pick values[idx] with arrow's take (much faster than numpy unicode arrays)."""
    return pa.array(values, pa.string()).take(pa.array(np.asarray(idx, dtype=np.int64)))


def _order(*keys) -> np.ndarray:
    """Row order sorting by keys[0], then keys[1], ... (np.lexsort takes the last key as primary)."""
    return np.lexsort(tuple(reversed(keys)))


# ---------------------------------------------------------------------------------------------
# generator
# ---------------------------------------------------------------------------------------------
def generate(n_patients: int = DEFAULT_PATIENTS, seed: int = DEFAULT_SEED) -> dict[str, pa.Table]:
    if n_patients < 1:
        raise ValueError("--patients must be >= 1")
    rng = np.random.default_rng(seed)
    N = n_patients
    # the published cohort (99 patients) also restricts both adverse events to SPMS patients
    paper_mode = N == DEFAULT_PATIENTS

    # ---- subtypes: exact published mix -------------------------------------------------------
    n_rr = _alloc(N, 42 / 99)
    n_sp = min(_alloc(N, 43 / 99), N - n_rr)
    sub_counts = {"RRMS": n_rr, "SPMS": n_sp, "NMOSD": N - n_rr - n_sp}
    sub = rng.permutation(np.repeat(np.arange(3), [sub_counts[s] for s in SUBTYPES]))
    masks = {s: sub == i for i, s in enumerate(SUBTYPES)}

    # ---- sex: exactly round(67.7 %) female -----------------------------------------------------
    odds = np.select([masks[s] for s in SUBTYPES], [FEMALE_ODDS[s] for s in SUBTYPES])
    female = _pick(rng, odds, _alloc(N, PUB_FEMALE))

    # ---- age (tenths of a year), mean exactly 39.5 ----------------------------------------------
    age = np.empty(N)
    for s in SUBTYPES:
        m, sd = AGE_BY_SUBTYPE[s]
        age[masks[s]] = rng.normal(m, sd, masks[s].sum())
    age = np.clip(age, 18.0, 68.0)
    age += PUB_AGE_MEAN - age.mean()
    age_t = np.clip(np.round(age * 10), 180, 700).astype(np.int64)
    age_t = _nudge_to_total(rng, age_t, 180, 700, int(round(PUB_AGE_MEAN * 10 * N)))
    age = age_t / 10.0

    # ---- follow-up days: 12-40 months, right-skewed, mean exactly 20.4 months ----------------
    target_mean = PUB_FOLLOWUP_MONTHS_MEAN * MONTH
    excess = rng.gamma(1.6, 1.0, N)
    excess *= (target_mean - FOLLOWUP_MIN_DAYS) / excess.mean()
    fu = np.clip(np.round(FOLLOWUP_MIN_DAYS + excess), FOLLOWUP_MIN_DAYS, FOLLOWUP_MAX_DAYS)
    fu = _nudge_to_total(rng, fu, FOLLOWUP_MIN_DAYS, FOLLOWUP_MAX_DAYS, int(round(target_mean * N)))

    # ---- dates: last visit in Aug-Oct 2020 (invented), first dose = last visit - follow-up -----
    last = STUDY_END - rng.integers(0, 91, N).astype("timedelta64[D]")
    first = last - fu.astype("timedelta64[D]")

    # ---- other baseline characteristics (invented) --------------------------------------------
    base_edss = np.empty(N)
    dd = np.empty(N)
    for s in SUBTYPES:
        k = masks[s].sum()
        base_edss[masks[s]] = rng.choice(BASELINE_EDSS[s], k)
        dd[masks[s]] = rng.gamma(4.0, DISEASE_DURATION_MEAN[s] / 4.0, k)
    dd = np.round(np.clip(dd, 0.5, age - 12.0), 1)
    prior_tx = np.minimum(1 + rng.poisson(np.where(masks["NMOSD"], 0.4, 0.9)), 5).astype(np.int64)
    site = rng.choice(2, N, p=SITE_P)  # index into SITES

    # ---- patient order / IDs: enrolment order (first dose date) -------------------------------
    order = np.lexsort((rng.random(N), first))
    sub, female, age, fu, last, first = sub[order], female[order], age[order], fu[order], last[order], first[order]
    base_edss, dd, prior_tx, site = base_edss[order], dd[order], prior_tx[order], site[order]
    masks = {s: sub == i for i, s in enumerate(SUBTYPES)}
    width = max(3, len(str(N)))
    pid = pa.array(np.char.add("RTX-", np.char.zfill(np.arange(1, N + 1).astype(str), width)), pa.string())

    # ---- infusion courses: 2 x 500 mg, 14 days apart, every ~6 months -------------------------
    span = fu - SECOND_DOSE_DAYS - 3  # the last course's second dose lies >= 3 days before last visit
    i_lo, i_hi = COURSE_INTERVAL_DAYS
    n_lo = span // i_hi + 1
    n_hi = span // i_lo + 1
    raw_iv = rng.uniform(170, 196, N)  # invented typical interval
    n_c = np.clip(span // raw_iv + 1, n_lo, n_hi).astype(np.int64)
    n_c = _nudge_to_total(rng, n_c, n_lo, n_hi, int(round(PUB_COURSES_PER_PATIENT * N)))
    iv_hi = np.minimum(i_hi, span / np.maximum(n_c - 1, 1))
    iv_lo = np.minimum(iv_hi, np.maximum(i_lo, span / n_c + 0.01))
    interval = np.clip(raw_iv, iv_lo, iv_hi)
    c_pidx, c_k = _expand(n_c)
    c_start = np.floor(c_k * interval[c_pidx]).astype(np.int64)
    c_start -= np.where(c_k > 0, rng.integers(0, 4, c_pidx.size), 0)  # scheduling jitter 0-3 days
    inf_pidx = np.repeat(c_pidx, 2)
    inf_course = np.repeat(c_k + 1, 2)
    inf_day = np.repeat(c_start, 2) + np.tile([0, SECOND_DOSE_DAYS], c_pidx.size)

    # ---- relapses: exact counts of attacked patients per subtype, 1/2/3 attacks ---------------
    attacked = np.zeros(N, dtype=bool)
    for s in SUBTYPES:
        attacked |= _pick(rng, masks[s].astype(float), _alloc(masks[s].sum(), PUB_ATTACKED[s]))
    m = int(attacked.sum())
    n3 = _alloc(m, PUB_ATTACK_COUNTS[3])
    n2 = _alloc(m, PUB_ATTACK_COUNTS[2])
    n_rel = np.zeros(N, dtype=np.int64)
    n_rel[attacked] = rng.permutation(np.repeat([1, 2, 3], [m - n2 - n3, n2, n3]))
    r_pidx, r_k = _expand(n_rel)
    seg = (fu[r_pidx] - 15) / n_rel[r_pidx]  # one attack per equal segment of [14, last-1]
    r_day = np.floor(14 + r_k * seg + rng.random(r_pidx.size) * (seg - 20)).astype(np.int64)
    sev_u = rng.random(r_pidx.size)
    sev_cdf = np.array([np.cumsum(SEVERITY_P[s]) for s in SUBTYPES])[sub[r_pidx]]
    r_sev = (sev_u[:, None] > sev_cdf[:, :2]).sum(axis=1)  # index into RELAPSE_SEVERITY

    # ---- EDSS: final change from the fixed multisets; attacked patients lean to worse changes --
    change = np.zeros(N)
    for s in SUBTYPES:
        idx = np.flatnonzero(masks[s])
        if idx.size == 0:
            continue
        ms = EDSS_CHANGE_MULTISET[s]
        pool = np.tile(ms, -(-idx.size // ms.size))
        vals = np.sort(rng.permutation(pool)[: idx.size])
        score = rng.random(idx.size) + 0.35 * attacked[idx]
        change[idx[np.argsort(score, kind="stable")]] = vals
    final_edss = np.clip(base_edss + change, 0.0, 10.0)
    cand = np.floor(fu / EDSS_VISIT_DAYS).astype(np.int64) + 1
    e_pidx, e_k = _expand(cand)
    e_day = np.round((e_k + 1) * EDSS_VISIT_DAYS).astype(np.int64) + rng.integers(-14, 15, e_pidx.size)
    keep = e_day <= fu[e_pidx] - 45  # regular visits; the last-follow-up visit is added below
    e_pidx, e_day = e_pidx[keep], e_day[keep]
    frac = e_day / fu[e_pidx]
    noise = rng.choice([-0.5, 0.0, 0.5], e_pidx.size, p=[0.15, 0.7, 0.15])
    e_val = np.clip(_round_half(base_edss[e_pidx] + change[e_pidx] * frac + noise), 0.0, 9.5)
    e_pidx = np.concatenate([e_pidx, np.arange(N)])
    e_day = np.concatenate([e_day, fu])
    e_val = np.concatenate([e_val, final_edss])

    # ---- MRI: about yearly; exact counts of patients with new T2 / Gd lesions ------------------
    cand = np.floor(fu / MRI_VISIT_DAYS).astype(np.int64) + 1
    m_pidx, m_k = _expand(cand)
    m_day = np.round((m_k + 1) * MRI_VISIT_DAYS).astype(np.int64) - rng.integers(0, 31, m_pidx.size)
    keep = m_day <= fu[m_pidx]
    m_pidx, m_day = m_pidx[keep], m_day[keep]
    n_scans = np.bincount(m_pidx, minlength=N)
    t2_pat = _pick(rng, np.where(n_scans > 0, 1.0 + 3.0 * attacked, 0.0), _alloc(N, PUB_MRI_NEW_T2))
    gd_pat = _pick(rng, t2_pat.astype(float), _alloc(N, PUB_MRI_GD))
    scan_starts = np.cumsum(n_scans) - n_scans
    active_scan = scan_starts + np.floor(rng.random(N) * n_scans).astype(np.int64)  # one scan each
    new_t2 = np.zeros(m_pidx.size, dtype=np.int64)
    gd = np.zeros(m_pidx.size, dtype=np.int64)
    new_t2[active_scan[t2_pat]] = 1 + rng.poisson(0.8, int(t2_pat.sum()))
    gd[active_scan[gd_pat]] = 1 + rng.poisson(0.3, int(gd_pat.sum()))

    # ---- adverse events -----------------------------------------------------------------------
    n_doses_total = inf_pidx.size
    eligible = masks["SPMS"] if paper_mode else np.ones(N, dtype=bool)
    # thrombocytopenia after the 4th course; onset 10-25 days after its second dose (invented)
    start4 = np.full(N, 10**9, dtype=np.int64)
    c4 = c_k == 3
    start4[c_pidx[c4]] = c_start[c4]
    onset_off = rng.integers(10, 26, N)
    t_onset = start4 + SECOND_DOSE_DAYS + onset_off
    ok_thr = eligible & (n_c >= 4) & (t_onset + THROMBO_RECOVERY[-1][0] <= fu)
    thr_pat = _pick(rng, ok_thr.astype(float), _alloc(N, PUB_THROMBOCYTOPENIA_PER_PATIENT))
    thr_idx = np.flatnonzero(thr_pat)
    # flushing during an infusion (any dose of an eligible patient without the other event)
    ok_fl = (eligible & ~thr_pat)[inf_pidx]
    fl_rows = np.flatnonzero(_pick(rng, ok_fl.astype(float), _alloc(n_doses_total, PUB_FLUSHING_PER_DOSE)))
    ae_pidx = np.concatenate([inf_pidx[fl_rows], thr_idx])
    ae_day = np.concatenate([inf_day[fl_rows], t_onset[thr_idx]])
    n_fl, n_thr = fl_rows.size, thr_idx.size
    ae_term = np.array(["Flushing"] * n_fl + ["Thrombocytopenia"] * n_thr, dtype=object)
    ae_rel = np.array(["during_infusion"] * n_fl + ["post_infusion"] * n_thr, dtype=object)
    ae_grade = np.concatenate([np.ones(n_fl, np.int64), np.full(n_thr, 4, np.int64)])  # CTCAE: <25 -> 4
    ae_serious = np.concatenate([np.zeros(n_fl, bool), np.ones(n_thr, bool)])  # invented: hospitalised
    ae_course = np.concatenate([inf_course[fl_rows], np.full(n_thr, 4, np.int64)])

    # ---- labs: every ~6 months; IgG (tested patients), IgM, platelets, lymphocytes, CD19 --------
    igg_tested = np.zeros(N, dtype=bool)
    igg_low = np.zeros(N, dtype=bool)
    for s in SUBTYPES:
        tested_s = _pick(rng, masks[s].astype(float), _alloc(masks[s].sum(), PUB_IGG_TESTED[s]))
        igg_tested |= tested_s
        igg_low |= _pick(rng, tested_s.astype(float), _alloc(tested_s.sum(), PUB_IGG_LOW[s]))
    cand = np.floor(fu / LAB_VISIT_DAYS).astype(np.int64) + 1
    l_pidx, l_k = _expand(cand)
    l_day = np.round((l_k + 1) * LAB_VISIT_DAYS).astype(np.int64) + rng.integers(-10, 11, l_pidx.size)
    keep = l_day <= fu[l_pidx]
    l_pidx, l_day = l_pidx[keep], l_day[keep]
    n_draws = np.bincount(l_pidx, minlength=N)
    l_k = np.arange(l_pidx.size) - np.repeat(np.cumsum(n_draws) - n_draws, n_draws)
    years = l_day / YEAR
    # IgG g/L: slow decline under rituximab (invented); low patients fall below 7.0 on the last 1-2
    igg_base = np.clip(rng.normal(10.8, 1.8, N), 8.0, 15.5)
    igg_slope = rng.uniform(0.1, 0.9, N)
    igg = igg_base[l_pidx] - igg_slope[l_pidx] * years + rng.normal(0, 0.35, l_pidx.size)
    igg = np.maximum(igg, 7.1 + np.abs(rng.normal(0, 0.3, l_pidx.size)))
    nd = n_draws[l_pidx]
    low_from = np.maximum(np.minimum(1, nd - 1), nd - 2)
    low_row = igg_low[l_pidx] & (l_k >= low_from)
    igg = np.where(low_row, rng.uniform(5.0, 6.8, l_pidx.size), igg)
    igg = np.round(igg, 1)
    igm = np.round(np.clip(rng.normal(0.9, 0.3, N)[l_pidx] - 0.1 * years + rng.normal(0, 0.08, l_pidx.size), 0.2, 3.0), 2)
    plt = np.round(np.clip(rng.normal(245, 45, N)[l_pidx] + rng.normal(0, 20, l_pidx.size), 155, 420), 0)
    lym = np.round(np.clip(rng.normal(1.9, 0.45, N)[l_pidx] + rng.normal(0, 0.2, l_pidx.size), 0.6, 4.0), 2)
    cd19 = np.round(rng.exponential(8.0, l_pidx.size), 0)  # B cells depleted (cells/uL)
    # thrombocytopenia: drop regular platelet draws around the event, add nadir + recovery values
    thr_onset_pp = np.full(N, -(10**9), dtype=np.int64)
    thr_onset_pp[thr_idx] = t_onset[thr_idx]
    near = (l_day >= thr_onset_pp[l_pidx] - 10) & (l_day <= thr_onset_pp[l_pidx] + 110)
    igg_rows = igg_tested[l_pidx]
    rec_off = np.array([d for d, _ in THROMBO_RECOVERY])
    rec_val = np.array([v for _, v in THROMBO_RECOVERY])
    tp_pidx = np.repeat(thr_idx, rec_off.size)
    tp_day = np.repeat(t_onset[thr_idx], rec_off.size) + np.tile(rec_off, thr_idx.size)
    tp_val = np.tile(rec_val, thr_idx.size)
    lab_parts = [
        (l_pidx[igg_rows], l_day[igg_rows], "IgG", igg[igg_rows], "g/L"),
        (l_pidx[igg_rows], l_day[igg_rows], "IgM", igm[igg_rows], "g/L"),
        (l_pidx[~near], l_day[~near], "platelets", plt[~near], "10^9/L"),
        (tp_pidx, tp_day, "platelets", tp_val, "10^9/L"),
        (l_pidx, l_day, "lymphocytes", lym, "10^9/L"),
        (l_pidx, l_day, "CD19", cd19, "cells/uL"),
    ]
    lab_pidx = np.concatenate([p[0] for p in lab_parts])
    lab_day = np.concatenate([p[1] for p in lab_parts])
    lab_val = np.concatenate([p[3] for p in lab_parts]).astype(np.float64)
    test_names = np.array(["CD19", "IgG", "IgM", "lymphocytes", "platelets"])
    units = {"CD19": "cells/uL", "IgG": "g/L", "IgM": "g/L", "lymphocytes": "10^9/L", "platelets": "10^9/L"}
    lab_test = np.concatenate([np.full(p[0].size, int(np.flatnonzero(test_names == p[2])[0])) for p in lab_parts])

    # ---- engagement: monthly Skype education sessions + WhatsApp contacts (invented counts) ----
    attend_p = rng.beta(2.5, 1.5, N)
    cand = np.floor(fu / SKYPE_PERIOD_DAYS).astype(np.int64) + 1
    s_pidx, s_k = _expand(cand)
    s_day = np.round(s_k * SKYPE_PERIOD_DAYS).astype(np.int64) + rng.integers(1, 8, s_pidx.size)
    s_keep = (s_day <= fu[s_pidx]) & (rng.random(s_pidx.size) < attend_p[s_pidx])
    s_keep |= (s_k == 0) & (np.bincount(s_pidx[s_keep], minlength=N) == 0)[s_pidx]  # >= 1 session
    s_pidx, s_day = s_pidx[s_keep], s_day[s_keep]
    wa_rate = rng.gamma(1.0, WHATSAPP_RATE_MEAN, N)
    n_wa = np.maximum(1, rng.poisson(wa_rate * fu / MONTH))
    w_pidx, _ = _expand(n_wa)
    w_day = np.floor(rng.random(w_pidx.size) * (fu[w_pidx] + 1)).astype(np.int64)
    q_share = rng.uniform(0.4, 0.8, N)
    w_kind = np.where(rng.random(w_pidx.size) < q_share[w_pidx], 1, 2)  # 1 question, 2 peer_support
    g_pidx = np.concatenate([s_pidx, w_pidx])
    g_day = np.concatenate([s_day, w_day])
    g_kind = np.concatenate([np.zeros(s_pidx.size, np.int64), w_kind])  # 0 education_session
    kinds = np.array(["education_session", "question", "peer_support"])
    chans = np.array(["skype", "whatsapp", "whatsapp"])

    # ---- sanity: the published cohort must come out exactly -----------------------------------
    if paper_mode:
        assert np.all(np.isin(final_edss - base_edss, _EDSS_STEPS)) and np.allclose(final_edss - base_edss, change)
        assert n_doses_total == 818 and thr_idx.size == 1 and fl_rows.size == 1

    # ---- assemble arrow tables (sorted, explicit types) ---------------------------------------
    pidx_all = np.arange(N)
    tables = {}
    tables["patients"] = pa.table({
        "patient_id": pid,
        "subtype": _take(SUBTYPES, sub),
        "sex": _take(["M", "F"], female.astype(np.int64)),
        "age_at_first_dose": pa.array(age, pa.float64()),
        "baseline_edss": pa.array(base_edss, pa.float64()),
        "first_dose_date": _dates(first, pidx_all, np.zeros(N, np.int64)),
        "last_followup_date": _dates(first, pidx_all, fu),
        "disease_duration_years": pa.array(dd, pa.float64()),
        "prior_treatments": pa.array(prior_tx, pa.int64()),
        "site": _take(SITES, site),
    })
    o = _order(inf_pidx, inf_day)
    tables["infusions"] = pa.table({
        "patient_id": pid.take(pa.array(inf_pidx[o])),
        "dose_date": _dates(first, inf_pidx[o], inf_day[o]),
        "dose_mg": pa.array(np.full(o.size, DOSE_MG), pa.float64()),
        "course": pa.array(inf_course[o], pa.int64()),
    })
    o = _order(r_pidx, r_day)
    tables["relapses"] = pa.table({
        "patient_id": pid.take(pa.array(r_pidx[o])),
        "onset_date": _dates(first, r_pidx[o], r_day[o]),
        "severity": _take(RELAPSE_SEVERITY, r_sev[o]),
    })
    o = _order(e_pidx, e_day)
    tables["edss"] = pa.table({
        "patient_id": pid.take(pa.array(e_pidx[o])),
        "assessment_date": _dates(first, e_pidx[o], e_day[o]),
        "edss": pa.array(e_val[o], pa.float64()),
    })
    o = _order(m_pidx, m_day)
    tables["mri"] = pa.table({
        "patient_id": pid.take(pa.array(m_pidx[o])),
        "scan_date": _dates(first, m_pidx[o], m_day[o]),
        "new_t2_lesions": pa.array(new_t2[o], pa.int64()),
        "gd_enhancing_lesions": pa.array(gd[o], pa.int64()),
    })
    o = _order(lab_pidx, lab_day, lab_test)
    tables["labs"] = pa.table({
        "patient_id": pid.take(pa.array(lab_pidx[o])),
        "sample_date": _dates(first, lab_pidx[o], lab_day[o]),
        "test": _take(test_names, lab_test[o]),
        "value": pa.array(lab_val[o], pa.float64()),
        "unit": _take([units[t] for t in test_names], lab_test[o]),
    })
    o = _order(ae_pidx, ae_day)
    n_ae = o.size
    tables["adverse_events"] = pa.table({
        "patient_id": pid.take(pa.array(ae_pidx[o])),
        "onset_date": _dates(first, ae_pidx[o], ae_day[o]),
        "term": pa.array(ae_term[o].astype(str), pa.string()),
        "relation": pa.array(ae_rel[o].astype(str), pa.string()),
        "grade": pa.array(ae_grade[o], pa.int64()),
        "serious": pa.array(ae_serious[o], pa.bool_()),
        "infection": pa.array(np.zeros(n_ae, bool), pa.bool_()),
        "opportunistic": pa.array(np.zeros(n_ae, bool), pa.bool_()),
        "outcome": _take(["resolved"], np.zeros(n_ae, np.int64)),
        "course": pa.array(ae_course[o], pa.int64()),
    })
    o = _order(g_pidx, g_day, g_kind)
    tables["engagement"] = pa.table({
        "patient_id": pid.take(pa.array(g_pidx[o])),
        "contact_date": _dates(first, g_pidx[o], g_day[o]),
        "channel": _take(chans, g_kind[o]),
        "kind": _take(kinds, g_kind[o]),
    })
    return tables


def write_dataset(tables: dict[str, pa.Table], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        # pyarrow writes no timestamps; without pandas metadata the files are byte-reproducible
        pq.write_table(table, out / f"{name}.parquet", compression="zstd", compression_level=3)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--patients", type=int, default=DEFAULT_PATIENTS, help="cohort size (default 99)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default data/demo)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    tables = generate(args.patients, args.seed)
    write_dataset(tables, args.out)
    rows = ", ".join(f"{k} {v.num_rows}" for k, v in tables.items())
    print(f"wrote {args.out} ({args.patients} patients, seed {args.seed}) in {time.perf_counter() - t0:.1f} s: {rows}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
