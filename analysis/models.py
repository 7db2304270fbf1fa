"""Adjusted models: Cox for time to first relapse, negative binomial for relapses ("models" key)."""

import hashlib
import math
import threading
import warnings
from collections import OrderedDict

import numpy as np
import pandas as pd

from analysis.stats import clean
from queries.contract import SUBTYPES, subtype_order
from queries.dataset import Dataset
from queries.filters import Filters

Z95 = 1.959964
REFERENCE_SUBTYPE = "RRMS"


def model_frame(ds: Dataset, filters: Filters) -> pd.DataFrame:
    """One row per selected patient: RFS time and event, relapses, patient-years, covariates."""
    # a fixed row order (by id), so that a fit on the same patients is the same fit
    rows = ds.run("model_values", filters, known_subtypes=SUBTYPES)
    others = sorted(set(rows["other_subtype"].dropna()))
    known = rows["subtype_code"].to_numpy(float)
    codes = np.where(np.isnan(known), -1, known - 1).astype(int)  # -1: missing
    if others:
        other = rows["other_subtype"].to_numpy(object)
        for i, name in enumerate(others):
            codes[other == name] = len(SUBTYPES) + i
    return pd.DataFrame(
        {
            "subtype": pd.Categorical.from_codes(codes, [*SUBTYPES, *others]),
            "months": rows["rfs_months"].to_numpy(float),
            "event": rows["rfs_event"].to_numpy(bool),
            "relapses": rows["relapses"].to_numpy(int),
            "patient_years": rows["patient_years"].to_numpy(float),
            "age_per_10y": rows["age_at_first_dose"].to_numpy(float) / 10,
            "male": rows["male"].to_numpy(float),
            "baseline_edss": rows["baseline_edss"].to_numpy(float),
            "disease_duration_years": rows["disease_duration_years"].to_numpy(float),
        }
    )


def covariates(frame: pd.DataFrame) -> pd.DataFrame:
    """The contract's covariates: age/10, male, baseline EDSS, subtype vs RRMS, disease duration."""
    x = {name: frame[name].to_numpy(float) for name in ("age_per_10y", "male", "baseline_edss")}
    present = subtype_order(frame["subtype"].unique())
    if REFERENCE_SUBTYPE in present and len(present) > 1:
        for s in present:
            if s != REFERENCE_SUBTYPE:
                x[f"subtype_{s}"] = (frame["subtype"] == s).to_numpy(float)
    duration = frame["disease_duration_years"]
    if len(duration) and duration.notna().all():
        x["disease_duration_years"] = duration.to_numpy(float)
    return pd.DataFrame(x, index=frame.index)


def _terms(coef: pd.Series, se: pd.Series, p: pd.Series, ratio: str) -> dict:
    """Per covariate: exp(coef), Wald CI exp(coef ± 1.959964 se), p; None where not finite."""
    return {
        name: {
            ratio: _exp(coef[name]),
            "ci_low": _exp(coef[name] - Z95 * se[name]),
            "ci_high": _exp(coef[name] + Z95 * se[name]),
            "p": clean(p[name]),
        }
        for name in coef.index
    }


def _exp(x: float) -> float | None:
    with np.errstate(over="ignore", invalid="ignore"):
        return clean(np.exp(x)) if x is not None and math.isfinite(x) else None


def _from_each_on(sums: np.ndarray) -> np.ndarray:
    """Sums over each group and every group after it (groups along the first axis)."""
    return np.ascontiguousarray(np.cumsum(sums[::-1], axis=0)[::-1])


def efron_values(x: np.ndarray, t: np.ndarray, e: np.ndarray, w: np.ndarray, beta: np.ndarray,
                 layout: tuple | None = None):
    """(hessian, gradient, log-likelihood) of the Efron partial likelihood at beta, rows sorted by
    time then event: lifelines' _get_efron_values_batch/_single (a Python loop over the times,
    ~50 ms per Newton step at 30,000 patients) computed over all rows at once; equal to lifelines'
    to 1e-9 (tests/test_models.py). layout: efron_layout(x, t, e, w), the same at every step."""
    d = x.shape[1]
    if not e.any():  # as lifelines: nothing to fit (the solver then stops the fit)
        return np.zeros((d, d)), np.zeros(d), 0.0
    starts, k, first, at, share, x_death, average = layout or efron_layout(x, t, e, w)
    phi = w * np.exp(x @ beta)
    phi_x = phi[:, None] * x
    # each time's risk set: the rows of that time and of every later time
    risk = _from_each_on(np.add.reduceat(phi, starts))
    risk_x = _from_each_on(np.add.reduceat(phi_x, starts, axis=0))
    # x_i x_j summed per time, one i at a time: an n × d × d array of every row's products would
    # take ~40 MB at 100,000 patients (the same products, summed in the same order)
    per_time_xx = np.empty((len(starts), d, d))
    for i in range(d):
        per_time_xx[:, i, :] = np.add.reduceat(phi_x[:, i, None] * x, starts, axis=0)
    risk_xx = _from_each_on(per_time_xx)
    tie = np.add.reduceat(phi[e], first)
    tie_x = np.add.reduceat(phi_x[e], first, axis=0)
    tie_xx = np.add.reduceat(np.einsum("ni,nj->nij", phi_x[e], x[e]), first, axis=0)
    # Efron: the l-th of tc tied events sees the risk set less l/tc of the tied events' scores
    denom = 1.0 / (risk[k][at] - share * tie[at])
    summand = (risk_x[k][at] - share[:, None] * tie_x[at]) * denom[:, None]
    wl = average[at]
    gradient = x_death.sum(0) - (wl[:, None] * summand).sum(0)
    log_lik = float((x_death @ beta).sum() + (wl * np.log(denom)).sum())
    a2 = (wl[:, None] * summand).T @ summand
    a1 = np.einsum("l,lij->ij", wl * denom, risk_xx[k][at]) - np.einsum(
        "l,lij->ij", wl * share * denom, tie_xx[at]
    )
    return a2 - a1, gradient, log_lik


def efron_layout(x: np.ndarray, t: np.ndarray, e: np.ndarray, w: np.ndarray) -> tuple:
    """What efron_values needs that does not depend on beta: the first row of each time, the times
    with events, their tied events (first of each, the l-th's share l / tc), and the events'
    weighted covariate sums and average weights per time."""
    new = np.r_[True, t[1:] != t[:-1]]
    starts = np.flatnonzero(new)
    group = np.cumsum(new) - 1
    # the tied events of each time with at least one event (events sort last within a time)
    ties = np.bincount(group[e], minlength=len(starts))
    k = np.flatnonzero(ties)
    first = np.r_[0, np.cumsum(ties[k])[:-1]]
    tc = ties[k]
    x_death = np.add.reduceat(w[e][:, None] * x[e], first, axis=0)
    average = np.add.reduceat(w[e], first) / tc
    at = np.repeat(np.arange(len(k)), tc)
    share = (np.arange(len(at)) - np.repeat(first, tc)) / tc[at]
    return starts, k, first, at, share, x_death, average


# what lifelines computes at fit time only for predictions and the concordance index
_SKIPPED_AT_FIT = ("_predicted_partial_hazards_", "baseline_hazard_", "baseline_cumulative_hazard_",
                   "baseline_survival_", "timeline")


def _fitter():
    """A lifelines CoxPHFitter whose Newton steps use efron_values (no entry times, no strata) and
    that skips the average patient, the baseline hazard and the training rows' partial hazards
    (_SKIPPED_AT_FIT: the fit has no predictions): the rest of the fit (Newton–Raphson, variance,
    summary) is lifelines' own."""
    from lifelines import CoxPHFitter
    from lifelines.fitters.coxph_fitter import SemiParametricPHFitter

    def steps():
        """efron_values for one fit's Newton steps: their data, the same at every step, as arrays
        and its efron_layout, taken once."""
        kept: list = []

        def values(X, T, E, weights, entries, beta):
            data = (X, T, E, weights)
            if not kept or not all(a is b for a, b in zip(kept[0], data)):
                arrays = (X.to_numpy(float), T.to_numpy(float), E.to_numpy(bool),
                          weights.to_numpy(float))
                kept[:] = [data, arrays, efron_layout(*arrays) if arrays[2].any() else None]
            return efron_values(*kept[1], beta, kept[2])

        return values

    class Efron(SemiParametricPHFitter):
        _fitting = False

        def fit(self, *args, **kwargs):
            self._fitting = True
            try:
                super().fit(*args, **kwargs)
            finally:
                self._fitting = False
            # skipped below (predictions, concordance): a reader fails instead of finding blanks
            for name in _SKIPPED_AT_FIT:
                self.__dict__.pop(name, None)
            return self

        def predict_partial_hazard(self, X):
            if self._fitting:
                # lifelines keeps every training row's partial hazard for the concordance index
                # and residuals (~15 ms at 30,000 patients), which nothing here reads
                return pd.Series(np.nan, index=X.index)
            return super().predict_partial_hazard(X)

        def _compute_baseline_hazards(self, predicted_partial_hazards_):
            # the baseline hazard only serves lifelines' predictions, which nothing here makes
            return pd.DataFrame({"baseline hazard": []}, dtype=float)

        def _choose_gradient_calculator(self, T, X, entries):
            if entries is not None:
                return super()._choose_gradient_calculator(T, X, entries)
            return steps()

        def _compute_central_values_of_raw_training_data(self, df, strata=None, name="baseline"):
            # the "average patient" (a pandas describe, ~20 ms at 30,000 patients) only serves
            # lifelines' plots of partial effects, which nothing here draws
            return None

    class Cox(CoxPHFitter):
        def _fit_model_breslow(self, *args, **kwargs):
            model = Efron(penalizer=self.penalizer, l1_ratio=self.l1_ratio, strata=self.strata,
                          alpha=self.alpha, label=self._label)
            model.fit(*args, **kwargs)
            return model

    return Cox()


def cox_fit(data: pd.DataFrame, duration: str, event: str):
    """A lifelines CoxPHFitter (Efron ties) on every other column of data; None when the fit does
    not converge (a constant covariate included)."""
    from lifelines.exceptions import ConvergenceError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _fitter().fit(data, duration_col=duration, event_col=event)
    except (ConvergenceError, np.linalg.LinAlgError, ValueError, ZeroDivisionError):
        return None


def cox_terms(cph) -> dict:
    """Per covariate of a fitted Cox model: HR, 95 % Wald CI (1.959964 × se) and Wald p."""
    # the coef, se(coef) and p columns of lifelines' summary, without the rest of its table (~5 ms)
    coef = cph.params_
    p = pd.Series(cph._compute_p_values(), index=coef.index)
    return _terms(coef, cph.standard_errors_, p, "hr")


def cox_data(frame: pd.DataFrame) -> pd.DataFrame:
    """The Cox model's data: the covariates, months to first relapse or censoring, and the event."""
    data = covariates(frame)
    data["months"] = frame["months"].to_numpy(float)
    data["event"] = frame["event"].to_numpy(bool)
    return data


# the summary's hazard ratios and the PH check fit the same model on the same patients: the last
# few fits are kept by their data (a fit on 30,000 patients takes about 0.03 s)
_COX_FITS: OrderedDict[bytes, object] = OrderedDict()
_COX_KEPT = 2  # a fit keeps its data: ~12 MiB at 100,000 patients
_COX_LOCK = threading.Lock()


def cox_model(frame: pd.DataFrame):
    """The fitted Cox model of time to first relapse (read it, never change it; it has no
    predictions, see _fitter); None with < 2 events, too few patients or no fit."""
    return _cox(frame)[0]


def _cox(frame: pd.DataFrame) -> tuple[object, pd.DataFrame]:
    """cox_model(frame) and the data it was fitted on (cox_data)."""
    data = cox_data(frame)
    n_coef = data.shape[1] - 2
    if int(frame["event"].sum()) < 2 or len(frame) < 2 * (n_coef + 1):
        return None, data
    key = hashlib.sha256(
        pd.util.hash_pandas_object(data, index=False).to_numpy().tobytes()
        + repr([(c, str(t)) for c, t in data.dtypes.items()]).encode()
    ).digest()
    with _COX_LOCK:
        if key in _COX_FITS:
            _COX_FITS.move_to_end(key)
            return _COX_FITS[key], data
    cph = cox_fit(data, "months", "event")
    with _COX_LOCK:
        _COX_FITS[key] = cph
        while len(_COX_FITS) > _COX_KEPT:
            _COX_FITS.popitem(last=False)
    return cph, data


def forget_fits() -> None:
    """Drop the kept Cox fits (a benchmark times first computations)."""
    with _COX_LOCK:
        _COX_FITS.clear()


def cox_relapse(frame: pd.DataFrame) -> dict | None:
    """Hazard ratios for time to first relapse; None with < 2 events, too few patients, no fit."""
    cph = cox_model(frame)
    if cph is None:
        return None
    n_coef = len(cph.params_)
    events = int(frame["event"].sum())
    return {
        "n": len(frame),
        "events": events,
        "events_per_variable": events / n_coef,
        "terms": cox_terms(cph),
    }


def _finite(values) -> bool:
    return bool(np.all(np.isfinite(np.asarray(values, dtype=float))))


def relapse_rate(frame: pd.DataFrame) -> dict | None:
    """Relapse rate ratios: NB2 by joint maximum likelihood with log(patient-years) offset, Poisson
    GLM when NB does not converge; None with < 2 relapses, too few patients or no fit."""
    # a patient with no follow-up time has no exposure (log 0): it adds nothing to the likelihood
    frame = frame[frame["patient_years"] > 0]
    x = covariates(frame)
    if int(frame["relapses"].sum()) < 2 or len(frame) < 2 * (x.shape[1] + 1):
        return None
    fit = fit_counts(
        frame["relapses"].to_numpy(float), x.to_numpy(float), frame["patient_years"].to_numpy(float)
    )
    if fit is None:
        return None
    model, coef, se, p = fit
    names = list(x.columns)
    return {
        "n": len(frame),
        "model": model,
        "terms": _terms(pd.Series(coef, names), pd.Series(se, names), pd.Series(p, names), "rr"),
    }


def _negative_binomial(y: np.ndarray, exog: np.ndarray, exposure: np.ndarray):
    """statsmodels' NegativeBinomial (nb2) with its log-likelihood, score and Hessian computed so
    that every floating-point operation and every sum is statsmodels' own, in the same order, with
    less work around them: gamma-function terms evaluated once per distinct count and looked up per
    patient, the mean shared by the log-likelihood and score at the same point (BFGS asks for both),
    and statsmodels' sums over the design's rows (numpy adds them row after row) done column by
    column. The values equal statsmodels' own bit for bit (tests/test_models.py), so the BFGS fit
    follows the same path; at 30,000 patients the fit takes about 0.07 s (0.1 s before)."""
    from scipy.special import digamma, gammaln, polygamma
    from statsmodels.discrete.discrete_model import NegativeBinomial

    class Nb2(NegativeBinomial):
        def _initialize(self):
            super()._initialize()
            self._counts, self._row = np.unique(self.endog, return_inverse=True)
            self._gammaln_y1 = gammaln(self._counts + 1)[self._row]  # gammaln(endog + 1)
            self._buffer = np.empty(self.exog.shape)
            self._columns = np.ascontiguousarray(self.exog.T)
            # the rows where a 0/1 column (sex, subtype) is 1: its other rows add exactly ±0 to
            # statsmodels' sum of finite terms
            columns = self._columns
            self._ones = {j: np.flatnonzero(c) for j, c in enumerate(columns)
                          if ((c == 0) | (c == 1)).all() and not c.all()}
            # every other column's terms (the intercept's, the measurements'), two by two: each
            # pair is one complex number per row
            self._full = [j for j in range(len(columns)) if j not in self._ones]
            self._constant = {j for j, c in enumerate(columns) if (c == 1.0).all()}
            pairs = np.zeros(((len(self._full) + 1) // 2, len(self.endog), 2))
            self._slots = [pairs[i // 2, :, i % 2] for i in range(len(self._full))]
            self._pairs = [pair.view(np.complex128)[:, 0] for pair in pairs]
            self._point = (None, None, None)

        def _at(self, f, shift: float) -> np.ndarray:
            """f(shift + y) for every patient, evaluated on the distinct counts."""
            return f(shift + self._counts)[self._row]

        def _mean(self, params, a1):
            """(mu, mu + a1) at these coefficients and 1 / alpha: the last point's are kept (the
            line search asks for the log-likelihood and the score at the same point)."""
            key = (params.tobytes(), a1)
            if self._point[0] != key:
                mu = self.predict(params)
                self._point = (key, mu, mu + a1)
            return self._point[1], self._point[2]

        def _row_sums(self, terms: np.ndarray, a1, y_mu, mu_a1) -> np.ndarray:
            """exog * a1 * (y - mu) / (mu + a1) summed over the rows in statsmodels' order: numpy
            sums an (n, k) array over axis 0 row after row, so each column's sum is its cumsum's
            last value, and a cumsum of complex numbers is two such sums at once. A 0/1 column's
            terms are `terms` on its rows of 1 (1 * a1 is a1)."""
            sums = np.empty(len(self._columns))
            for j, values in zip(self._full, self._slots):
                column = self._columns[j]
                if j in self._constant:
                    values[:] = terms
                else:
                    product = column * a1
                    product *= y_mu
                    np.divide(product, mu_a1, out=values)
            pair_sums = np.array([np.cumsum(pair)[-1] for pair in self._pairs]).view(float)
            sums[self._full] = pair_sums[: len(self._full)]
            for j, ones in self._ones.items():
                sums[j] = np.cumsum(terms.take(ones))[-1]
            return sums

        # statsmodels' _ll_nbin, _score_nbin and _hessian_nb2 for nb2, operation for operation;
        # nb2's size 1 / alpha * mu**0 is one number for every patient, so it stays one number
        def _ll_nbin(self, params, alpha, Q=0):
            if Q != 0 or np.any(np.iscomplex(params)) or np.iscomplex(alpha):
                return super()._ll_nbin(params, alpha, Q)
            endog = self.endog
            size = 1 / alpha
            _, size_mu = self._mean(params, size)
            prob = size / size_mu
            coeff = self._at(gammaln, size) - self._gammaln_y1 - gammaln(size)
            return coeff + size * np.log(prob) + endog * np.log(1 - prob)

        def _score_nbin(self, params, Q=0):
            if Q != 0 or not self._transparams:
                return super()._score_nbin(params, Q)
            alpha = np.exp(params[-1])
            params = params[:-1]
            y = self.endog
            a1 = 1 / alpha
            mu, mu_a1 = self._mean(params, a1)
            y_mu = y - mu
            dgpart = self._at(digamma, a1) - digamma(a1)
            terms = a1 * y_mu
            terms /= mu_a1
            if np.isfinite(terms).all():
                dparams = self._row_sums(terms, a1, y_mu, mu_a1)
            else:  # an overflowing mean: 0 * inf is nan, as in statsmodels' own sum
                dparams = np.multiply(self.exog, a1, out=self._buffer)
                dparams *= y_mu[:, None]
                dparams /= mu_a1[:, None]
                dparams = dparams.sum(0)
            da1 = -(alpha**-2)
            dalpha = (dgpart + np.log(a1) - np.log(mu_a1) - y_mu / mu_a1).sum() * da1
            return np.r_[dparams, dalpha * alpha]

        def _hessian_nb2(self, params):
            alpha = np.exp(params[-1]) if self._transparams else params[-1]
            a1 = 1 / alpha
            params = params[:-1]
            exog = self.exog
            y = self.endog[:, None]
            mu = self.predict(params)[:, None]
            prob = a1 / (a1 + mu)
            dgpart = self._at(digamma, a1)[:, None] - digamma(a1)
            dim = exog.shape[1]
            hess_arr = np.empty((dim + 1, dim + 1))
            # statsmodels sums each (n, 1) product pairwise, as numpy sums a 1-d array
            const_arr = (a1 * mu * (a1 + y) / (mu + a1) ** 2)[:, 0]
            columns = self._columns
            for i in range(dim):
                for j in range(i + 1):
                    hess_arr[i, j] = np.sum(-columns[i] * columns[j] * const_arr)
            tri_idx = np.triu_indices(dim, k=1)
            hess_arr[tri_idx] = hess_arr.T[tri_idx]
            da1 = -(alpha**-2)
            dldpda = -np.sum(mu * exog * (y - mu) * a1**2 / (mu + a1) ** 2, axis=0)
            hess_arr[-1, :-1] = dldpda
            hess_arr[:-1, -1] = dldpda
            da2 = 2 * alpha**-3
            dalpha = da1 * (dgpart + np.log(prob) - (y - mu) / (a1 + mu))
            trigamma = self._at(lambda x: polygamma(1, x), a1)[:, None]
            dada = (
                da2 * dalpha / da1
                + da1**2
                * (trigamma - polygamma(1, a1) + 1 / a1 - 1 / (a1 + mu)
                   + (y - mu) / (mu + a1) ** 2)
            ).sum()
            hess_arr[-1, -1] = dada
            return hess_arr

    # the caller has checked the rank (statsmodels' own check is a QR of the design)
    return Nb2(y, exog, exposure=exposure, loglike_method="nb2", check_rank=False)


def fit_counts(y: np.ndarray, x: np.ndarray, exposure: np.ndarray):
    """(model, coef, se, p) of the covariates (intercept dropped): statsmodels NegativeBinomial nb2,
    else Poisson GLM; None when neither converges with finite standard errors. A singular design
    (a covariate constant among the patients) identifies no coefficient, whatever the optimiser
    says."""
    import statsmodels.api as sm

    # a fresh C-ordered array: the fit near alpha = 0 depends on the memory layout of exog
    exog = np.ascontiguousarray(np.column_stack([np.ones(len(y)), x]))
    if np.linalg.matrix_rank(exog) < exog.shape[1]:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            nb = _negative_binomial(y, exog, exposure).fit(disp=0, maxiter=1000)
            if nb.mle_retvals.get("converged") and _finite(nb.params) and _finite(nb.bse):
                k = exog.shape[1]  # the last parameter is the dispersion alpha
                return "negative_binomial", nb.params[1:k], nb.bse[1:k], nb.pvalues[1:k]
        except (np.linalg.LinAlgError, ValueError, ZeroDivisionError, OverflowError):
            pass
        try:
            glm = sm.GLM(y, exog, family=sm.families.Poisson(), exposure=exposure).fit()
        except (np.linalg.LinAlgError, ValueError, ZeroDivisionError, OverflowError):
            return None
    if not glm.converged or not _finite(glm.params) or not _finite(glm.bse):
        return None
    return "poisson", glm.params[1:], glm.bse[1:], glm.pvalues[1:]


def models_summary(ds: Dataset, filters: Filters) -> dict:
    """The Cox relapse model and the relapse-rate model for the selected patients."""
    frame = model_frame(ds, filters)
    return {"cox_relapse": cox_relapse(frame), "relapse_rate": relapse_rate(frame)}


def scaled_schoenfeld(cph, data: pd.DataFrame) -> pd.DataFrame:
    """lifelines' scaled Schoenfeld residuals of a Cox fit without strata or entry times (one row
    per event, in the fit's order of rows), computed over all rows at once: lifelines'
    compute_residuals(data, "scaled_schoenfeld") walks the rows in Python (about 1 s at 30,000
    patients); equal to it to 1e-9 (tests/test_models.py)."""
    terms = cph.params_.index
    # the fit's own row order (sorted by time, then event): the rank time transform counts on it
    rows = data.index.get_indexer(cph.durations.index)
    x = data[terms].to_numpy(float)[rows]
    t = cph.durations.to_numpy(float)
    e = cph.event_observed.to_numpy(bool)
    phi = cph.weights.to_numpy(float) * np.exp(x @ cph.params_.to_numpy(float))
    # risk set at time t: every row with time >= t, i.e. from the first row of t's group onwards
    starts = np.flatnonzero(np.r_[True, t[1:] != t[:-1]])
    group = np.cumsum(np.r_[True, t[1:] != t[:-1]]) - 1
    risk = np.cumsum(phi[::-1])[::-1][starts]
    risk_x = np.cumsum((phi[:, None] * x)[::-1], axis=0)[::-1][starts]
    # Efron: the l-th of the tc tied events sees the risk set less l/tc of the tied events' scores
    ties = np.bincount(group[e], minlength=len(starts))
    tie = np.bincount(group[e], weights=phi[e], minlength=len(starts))
    tie_x = np.column_stack(
        [np.bincount(group[e], weights=phi[e] * x[e, j], minlength=len(starts))
         for j in range(x.shape[1])]
    )
    g = np.repeat(np.arange(len(starts)), ties)  # one entry per (time, l)
    tc = ties[g]
    share = (np.arange(len(g)) - np.repeat(np.cumsum(ties) - ties, ties)) / tc
    terms_l = (risk_x[g] - share[:, None] * tie_x[g]) / ((risk[g] - share * tie[g]) * tc)[:, None]
    mean = np.zeros((len(starts), x.shape[1]))
    np.add.at(mean, g, terms_l)
    # lifelines' residuals.dot(variance_matrix_) × events, on the arrays (pandas' dot is np.dot)
    scaled = cph.event_observed.sum() * np.dot(x[e] - mean[group[e]], cph.variance_matrix_.values)
    return pd.DataFrame(scaled, columns=cph.variance_matrix_.columns)


def ph_check(ds: Dataset, filters: Filters) -> pd.DataFrame | None:
    """Proportional-hazards check of the Cox model: lifelines' Schoenfeld-residual test (rank time
    transform) per covariate (term, test_statistic, p); None when the model is not fitted."""
    from lifelines.statistics import proportional_hazard_test

    cph, data = _cox(model_frame(ds, filters))
    if cph is None:
        return None
    residuals = scaled_schoenfeld(cph, data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        test = proportional_hazard_test(
            cph, None, time_transform="rank", precomputed_residuals=residuals
        )
    # the rows of lifelines' test.summary (sorted by term), without the rest of its table
    table = pd.DataFrame(
        {
            "term": [str(term) for term in test.name],
            "test_statistic": np.asarray(test.test_statistic, float),
            "p": np.asarray(test.p_value, float),
        }
    )
    return table.sort_values("term", kind="stable", ignore_index=True)


CALLS = {"ph_check": ph_check}
