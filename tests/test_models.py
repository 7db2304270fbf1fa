"""Adjusted models (contract v2): Cox for time to first relapse, NB2/Poisson for relapse counts.

Expected values come from lifelines / statsmodels called directly in the test on the frame the test
wrote, from the published Rossi recidivism fit (Fox & Weisberg), and from the null rules by hand.
"""

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from lifelines import CoxPHFitter
from lifelines.datasets import load_rossi
from statsmodels.discrete.discrete_model import NegativeBinomial

from analysis.models import cox_fit, cox_terms, models_summary, ph_check
from analysis.summary import summary
from queries import Dataset, Filters
from tests.cohort import D, patient, write
from tests.random_cohort import write_random_cohort
from tests.reference_endpoints import reference_models
from tests.test_disability import assert_close

MONTH, YEAR, Z = 30.4375, 365.25, 1.959964
SUBTYPES = ["RRMS"] * 18 + ["SPMS"] * 14 + ["NMOSD"] * 8


def cohort(n: int = 40, seed: int = 7, with_duration: bool = True, subtypes=SUBTYPES):
    """Patients with known covariates, follow-up and relapse days, and the frame the models see."""
    rng = np.random.default_rng(seed)
    first = D(2018, 1, 1)
    pats, relapses, rows = [], [], []
    for i in range(n):
        days = int(rng.integers(200, 1500))
        age, male = round(float(rng.uniform(20, 60)), 1), bool(rng.random() < 0.35)
        edss, sub = float(rng.integers(0, 13) * 0.5), subtypes[i]
        duration = round(float(rng.uniform(0, 20)), 1)
        frailty = rng.gamma(1.5, 1 / 1.5)  # gamma-Poisson: overdispersed counts
        k = int(rng.poisson(frailty * 0.5 * days / YEAR * (1.8 if sub == "NMOSD" else 1.0)))
        onsets = sorted(int(x) for x in rng.integers(0, days + 1, size=k))
        pid = f"P{i:02d}"
        pats.append(
            patient(
                pid,
                sub,
                first=first,
                last=first + dt.timedelta(days=days),
                age=age,
                sex="M" if male else "F",
                edss=edss,
                **({"disease_duration_years": duration} if with_duration else {}),
            )
        )
        relapses += [
            {"patient_id": pid, "onset_date": first + dt.timedelta(days=o)} for o in onsets
        ]
        rows.append(
            {
                "patient_id": pid,
                "subtype": sub,
                "age_per_10y": age / 10,
                "male": float(male),
                "baseline_edss": edss,
                "duration": duration,
                "relapses": k,
                "py": days / YEAR,
                "months": (onsets[0] if onsets else days) / MONTH,
                "event": bool(onsets),
            }
        )
    return pats, relapses, pd.DataFrame(rows)


def design(frame: pd.DataFrame, with_duration: bool = True) -> pd.DataFrame:
    x = frame[["age_per_10y", "male", "baseline_edss"]].assign(
        subtype_SPMS=(frame["subtype"] == "SPMS").astype(float),
        subtype_NMOSD=(frame["subtype"] == "NMOSD").astype(float),
    )
    return x.assign(disease_duration_years=frame["duration"]) if with_duration else x


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    pats, relapses, frame = cohort()
    folder = write(tmp_path_factory.mktemp("models"), patients=pats, relapses=relapses)
    return folder, frame


def test_cox_equals_lifelines_on_the_same_frame(tiny):
    folder, frame = tiny
    cph = CoxPHFitter().fit(design(frame).assign(T=frame["months"], E=frame["event"]), "T", "E")
    s = cph.summary

    cox = summary(Dataset(folder), Filters())["models"]["cox_relapse"]

    assert cox["n"] == 40 and cox["events"] == int(frame["event"].sum())
    assert cox["events_per_variable"] == pytest.approx(frame["event"].sum() / 6)
    assert list(cox["terms"]) == list(s.index)
    for term, row in s.iterrows():
        got = cox["terms"][term]
        assert got["hr"] == pytest.approx(math.exp(row["coef"]), rel=1e-6)
        assert got["ci_low"] == pytest.approx(math.exp(row["coef"] - Z * row["se(coef)"]), rel=1e-6)
        assert got["ci_high"] == pytest.approx(
            math.exp(row["coef"] + Z * row["se(coef)"]), rel=1e-6
        )
        assert got["p"] == pytest.approx(row["p"], rel=1e-6)
        # lifelines' own 95 % bounds use 1.959964 too
        assert got["ci_low"] == pytest.approx(row["exp(coef) lower 95%"], rel=1e-5)


def test_negative_binomial_equals_statsmodels_on_the_same_frame(tiny):
    folder, frame = tiny
    frame = frame.sort_values("patient_id")
    exog = sm.add_constant(design(frame))
    nb = NegativeBinomial(frame["relapses"], exog, exposure=frame["py"], loglike_method="nb2").fit(
        disp=0, maxiter=1000
    )
    assert nb.mle_retvals["converged"] and np.isfinite(nb.bse).all()

    rate = summary(Dataset(folder), Filters())["models"]["relapse_rate"]

    assert rate["model"] == "negative_binomial" and rate["n"] == 40
    assert list(rate["terms"]) == list(design(frame).columns)
    for term, got in rate["terms"].items():
        b, se = nb.params[term], nb.bse[term]
        assert got["rr"] == pytest.approx(math.exp(b), rel=1e-4)
        assert got["ci_low"] == pytest.approx(math.exp(b - Z * se), rel=1e-4)
        assert got["ci_high"] == pytest.approx(math.exp(b + Z * se), rel=1e-4)
        assert got["p"] == pytest.approx(nb.pvalues[term], abs=1e-4)


def test_cox_reproduces_the_published_rossi_fit():
    # Fox & Weisberg, "Cox Proportional-Hazards Regression for Survival Data in R" (appendix to An R
    # Companion to Applied Regression), coxph(Surv(week, arrest) ~ fin + age + race + wexp + mar +
    # paro + prio, data = Rossi): exp(coef), se(coef), p
    published = {
        "fin": (0.68426, 0.19138, 0.04742),
        "age": (0.94418, 0.02200, 0.00903),
        "race": (1.36875, 0.30799, 0.30812),
        "wexp": (0.86088, 0.21222, 0.48029),
        "mar": (0.64810, 0.38187, 0.25606),
        "paro": (0.91863, 0.19576, 0.66461),
        "prio": (1.09581, 0.02865, 0.00140),
    }

    cph = cox_fit(load_rossi(), "week", "arrest")
    terms = cox_terms(cph)

    for name, (hr, se, p) in published.items():
        assert terms[name]["hr"] == pytest.approx(hr, abs=6e-5)
        assert cph.summary.loc[name, "se(coef)"] == pytest.approx(se, abs=6e-6)
        assert terms[name]["p"] == pytest.approx(p, abs=6e-5)
        low = math.exp(math.log(terms[name]["hr"]) - Z * se)
        assert terms[name]["ci_low"] == pytest.approx(low, rel=1e-4)


def test_poisson_is_the_fallback_when_negative_binomial_has_no_finite_standard_errors(tmp_path):
    # seed 1 of the random cohort has no overdispersion: NB's alpha goes to 0 and its standard
    # errors are not finite, checked here with statsmodels directly on the same rows
    folder = write_random_cohort(tmp_path / "c", 1, timestamps=True)
    ref = reference_models(folder)
    p = pd.read_parquet(folder / "patients.parquet")
    assert ref["relapse_rate"]["model"] == "poisson" and len(p) == 60

    rate = summary(Dataset(folder), Filters())["models"]["relapse_rate"]

    assert rate["model"] == "poisson"
    assert_close(rate, ref["relapse_rate"], "relapse_rate")


def test_too_few_events_or_patients_give_null(tmp_path):
    pats, relapses, _ = cohort(n=40)
    one_relapse = [relapses[0]]
    folder = write(tmp_path / "one", patients=pats, relapses=one_relapse)

    models = summary(Dataset(folder), Filters())["models"]

    assert models == {"cox_relapse": None, "relapse_rate": None}  # fewer than 2 events/relapses
    # 6 coefficients need 2 × 7 = 14 patients: 13 are too few
    pats, relapses, _ = cohort(n=13, subtypes=["RRMS"] * 5 + ["SPMS"] * 4 + ["NMOSD"] * 4)
    folder = write(tmp_path / "thirteen", patients=pats, relapses=relapses)
    assert summary(Dataset(folder), Filters())["models"] == {
        "cox_relapse": None,
        "relapse_rate": None,
    }


def test_a_constant_covariate_leaves_the_models_unfitted(tiny):
    folder, _ = tiny

    models = summary(Dataset(folder), Filters(sexes=("F",)))["models"]

    # male is 0 for every selected patient: the fit cannot identify its coefficient
    assert models == {"cox_relapse": None, "relapse_rate": None}


def test_terms_follow_the_selected_subtypes_and_the_disease_duration_column(tmp_path):
    pats, relapses, _ = cohort(with_duration=False)
    folder = write(tmp_path / "nodur", patients=pats, relapses=relapses)
    ds = Dataset(folder)

    all_terms = models_summary(ds, Filters())["cox_relapse"]["terms"]
    one = models_summary(ds, Filters(subtypes=("RRMS",)))["cox_relapse"]
    two = models_summary(ds, Filters(subtypes=("RRMS", "NMOSD")))["relapse_rate"]["terms"]
    no_rrms = models_summary(ds, Filters(subtypes=("SPMS", "NMOSD")))["cox_relapse"]

    assert list(all_terms) == [
        "age_per_10y",
        "male",
        "baseline_edss",
        "subtype_SPMS",
        "subtype_NMOSD",
    ]
    assert list(one["terms"]) == ["age_per_10y", "male", "baseline_edss"]  # one subtype
    assert list(two) == ["age_per_10y", "male", "baseline_edss", "subtype_NMOSD"]
    assert list(no_rrms["terms"]) == ["age_per_10y", "male", "baseline_edss"]  # no RRMS


def test_patients_without_follow_up_time_are_left_out_of_the_rate_model(tmp_path):
    pats, relapses, _ = cohort()
    pats.append(patient("ZERO", first=D(2019, 1, 1), last=D(2019, 1, 1)))
    folder = write(tmp_path / "zero", patients=pats, relapses=relapses)

    models = summary(Dataset(folder), Filters())["models"]

    assert models["relapse_rate"]["n"] == 40  # log(0 patient-years) has no place in the offset
    assert models["cox_relapse"]["n"] == 41  # censored at time 0: in the risk set of nothing


def test_proportional_hazards_check_is_lifelines_schoenfeld_test(tiny):
    from lifelines.statistics import proportional_hazard_test

    folder, frame = tiny
    data = design(frame).assign(months=frame["months"], event=frame["event"])
    cph = CoxPHFitter().fit(data, "months", "event")
    expected = proportional_hazard_test(cph, data, time_transform="rank").summary["p"]

    table = ph_check(Dataset(folder), Filters()).set_index("term")

    assert table["p"].to_dict() == pytest.approx(expected.to_dict(), rel=1e-6)


FILTERS = [
    {},
    {"followup_min": 12.0, "followup_max": 36.0},
    {"subtypes": ["RRMS", "NMOSD"]},
    {"subtypes": ["SPMS", "NMOSD"]},
    {"subtypes": ["RRMS"]},
    {"age_min": 30.0, "age_max": 50.0},
    {"sites": ["North"]},
    {"followup_min": 1000.0},
]


@pytest.mark.parametrize("seed,optional", [(1, True), (2, True), (3, True), (4, False)])
def test_models_match_the_independent_reference(tmp_path, seed, optional):
    folder = write_random_cohort(
        tmp_path / "c", seed, timestamps=seed % 2 == 1, with_optional_columns=optional
    )
    ds = Dataset(folder)

    for f in FILTERS:
        actual = summary(ds, Filters(**f))["models"]

        assert_close(actual, reference_models(folder, **f), f"seed {seed} {f}")


def _demo_and_random_cox_data(tmp_path):
    """The Cox model's data on the demo cohort and on a random cohort (contract-valid, ties)."""
    from analysis.models import cox_data, model_frame

    folders = [Path(__file__).parents[1] / "data" / "demo", write_random_cohort(tmp_path / "r", 5)]
    return [cox_data(model_frame(Dataset(folder), Filters())) for folder in folders]


def test_scaled_schoenfeld_residuals_equal_lifelines_own(tmp_path):
    from analysis.models import scaled_schoenfeld

    for data in _demo_and_random_cox_data(tmp_path):
        cph = CoxPHFitter().fit(data, "months", "event")
        expected = cph.compute_residuals(data, kind="scaled_schoenfeld")

        got = scaled_schoenfeld(cph, data)

        assert list(got.columns) == list(expected.columns)
        np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=0, atol=1e-9)


def test_ph_check_equals_lifelines_test_on_the_demo_and_a_random_cohort(tmp_path):
    from lifelines.statistics import proportional_hazard_test

    for data, folder in zip(
        _demo_and_random_cox_data(tmp_path),
        [Path(__file__).parents[1] / "data" / "demo", tmp_path / "r"],
    ):
        cph = CoxPHFitter().fit(data, "months", "event")
        expected = proportional_hazard_test(cph, data, time_transform="rank").summary

        table = ph_check(Dataset(folder), Filters()).set_index("term")

        np.testing.assert_allclose(
            table["test_statistic"], expected["test_statistic"], rtol=0, atol=1e-9
        )
        np.testing.assert_allclose(table["p"], expected["p"], rtol=0, atol=1e-9)


def test_vectorised_efron_values_equal_lifelines_batch_and_single_loops(tmp_path):
    from analysis.models import efron_layout, efron_values

    for data in _demo_and_random_cox_data(tmp_path):
        fitter = CoxPHFitter().fit(data, "months", "event")._model
        x, t, e, w, *_ = fitter._preprocess_dataframe(data)
        x = (x - x.mean(0)) / x.std(0)
        d = x.shape[1]
        arrays = (x.to_numpy(), t.to_numpy(), e.to_numpy(), w.to_numpy())
        for beta in (np.zeros(d), np.linspace(-0.5, 0.5, d)):
            got = efron_values(*arrays, beta)
            # the layout the Newton steps share is the one each call would take
            for a, b in zip(efron_values(*arrays, beta, efron_layout(*arrays)), got):
                assert np.array_equal(a, b)
            for lifelines_loop in (fitter._get_efron_values_batch, fitter._get_efron_values_single):
                hessian, gradient, log_lik = lifelines_loop(x, t, e, w, None, beta.copy())
                np.testing.assert_allclose(got[0], hessian, rtol=1e-12, atol=1e-9)
                np.testing.assert_allclose(got[1], gradient, rtol=1e-12, atol=1e-9)
                assert got[2] == pytest.approx(log_lik, rel=1e-12, abs=1e-9)


def test_cox_fit_equals_lifelines_coxphfitter_on_the_demo_and_a_random_cohort(tmp_path):
    for data in _demo_and_random_cox_data(tmp_path):
        expected = CoxPHFitter().fit(data, "months", "event")

        got = cox_fit(data, "months", "event")

        columns = ["coef", "se(coef)", "p", "exp(coef) lower 95%", "exp(coef) upper 95%"]
        np.testing.assert_allclose(
            got.summary[columns], expected.summary[columns], rtol=0, atol=1e-9
        )
        assert got.log_likelihood_ == pytest.approx(expected.log_likelihood_, abs=1e-9)


def _count_designs(tmp_path):
    """(relapses, design with intercept, patient-years) of the rate model on the demo and a random
    cohort, as fit_counts receives them."""
    from analysis.models import covariates, model_frame

    folders = [Path(__file__).parents[1] / "data" / "demo", write_random_cohort(tmp_path / "n", 2)]
    for folder in folders:
        frame = model_frame(Dataset(folder), Filters())
        frame = frame[frame["patient_years"] > 0]
        x = covariates(frame).to_numpy(float)
        yield (frame["relapses"].to_numpy(float),
               np.ascontiguousarray(np.column_stack([np.ones(len(x)), x])),
               frame["patient_years"].to_numpy(float))


def test_negative_binomial_on_distinct_counts_equals_statsmodels_bit_for_bit(tmp_path):
    from analysis.models import _negative_binomial

    rng = np.random.default_rng(3)
    for y, exog, exposure in _count_designs(tmp_path):
        theirs = NegativeBinomial(y, exog, exposure=exposure, loglike_method="nb2")
        mine = _negative_binomial(y, exog, exposure)
        for transformed in (True, False):  # ln(alpha) while fitting, alpha afterwards
            theirs._transparams = mine._transparams = transformed
            for _ in range(3):
                params = np.r_[rng.normal(0, 0.2, exog.shape[1]), rng.uniform(0.1, 2)]
                assert np.array_equal(mine.loglikeobs(params), theirs.loglikeobs(params))
                assert np.array_equal(mine.score(params), theirs.score(params))
                assert np.array_equal(mine.hessian(params), theirs.hessian(params))

        expected = NegativeBinomial(y, exog, exposure=exposure, loglike_method="nb2").fit(
            disp=0, maxiter=1000)
        got = mine.fit(disp=0, maxiter=1000)

        assert got.mle_retvals["converged"] == expected.mle_retvals["converged"]
        for a, b in ((got.params, expected.params), (got.bse, expected.bse),
                     (got.pvalues, expected.pvalues)):
            np.testing.assert_array_equal(a, b)


def test_negative_binomial_score_equals_statsmodels_where_the_mean_overflows(tmp_path):
    # a BFGS line search may try a step whose mean exp(x b) overflows: statsmodels' score is then
    # nan in every coefficient (0 * inf in its sums over the rows), and so must ours be
    from analysis.models import _negative_binomial

    y, exog, exposure = next(_count_designs(tmp_path))
    theirs = NegativeBinomial(y, exog, exposure=exposure, loglike_method="nb2")
    mine = _negative_binomial(y, exog, exposure)
    theirs._transparams = mine._transparams = True
    params = np.r_[np.full(exog.shape[1], 200.0), 0.5]

    with np.errstate(all="ignore"):
        expected, got = theirs.score(params), mine.score(params)
        assert np.array_equal(mine.loglikeobs(params), theirs.loglikeobs(params), equal_nan=True)

    assert np.isnan(expected[:-1]).all()
    assert np.array_equal(got, expected, equal_nan=True)


def test_cox_fit_leaves_out_only_what_lifelines_computes_for_predictions(tmp_path):
    # the summary's and the PH check's figures equal lifelines' own (the tests above); what the fit
    # skips (baseline hazard, the training rows' partial hazards) is absent, not blank, and
    # predictions asked for after the fit are lifelines' own
    for data in _demo_and_random_cox_data(tmp_path):
        expected = CoxPHFitter().fit(data, "months", "event")

        got = cox_fit(data, "months", "event")

        for name in ("baseline_hazard_", "baseline_survival_", "_predicted_partial_hazards_"):
            assert hasattr(expected, name) and not hasattr(got, name)
        np.testing.assert_allclose(
            got.predict_partial_hazard(data), expected.predict_partial_hazard(data),
            rtol=1e-9, atol=0,
        )


def test_model_frame_names_every_subtype_from_its_code(tmp_path):
    # model_values.sql returns a subtype as its place in the contract's list, as text only when
    # the list does not hold it
    from analysis.models import model_frame

    pats, relapses, frame = cohort()
    pats[0]["subtype"], pats[1]["subtype"] = "MOGAD", "CIS"
    folder = write(tmp_path / "other", patients=pats, relapses=relapses)

    got = model_frame(Dataset(folder), Filters())

    expected = ["MOGAD", "CIS", *frame["subtype"][2:]]
    assert list(got["subtype"].astype(str)) == expected
    assert list(got["male"]) == list(frame["male"])
