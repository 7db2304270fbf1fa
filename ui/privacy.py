"""What a viewer may see: the one rule set for patient IDs and small counts in viewer mode.

Rules (k = `min_count()`, 5 unless set; the team sees everything, so every rule is a no-op for it):
- **Primary suppression.** A count from 1 to k − 1 is shown as "< k" (`count`, `small`). Zero is shown.
- **Complement.** A count n of a shown total N is hidden too when N − n is from 1 to k − 1: it would
  give the small complement away; it is shown as the bound "≥ N − k + 1".
- **Complementary (secondary) suppression.** In a row of cells whose total is shown elsewhere, a
  single hidden cell could be worked out from the total and the others, so one more cell is hidden
  ("hidden"): the one with the smallest count, preferring a cell that is neither 0 nor its total.
  Where two variants of this rule disagreed (the virtual-care page hid no partner when every other
  cell was 0; Table 1 hid one all the same), the stricter holds: a partner is always hidden
  (`suppress`).
- **Tables that add up both ways.** In a table of counts whose groups add up to a row 'All' and
  whose cells in a row add up to linked totals (CDW events = PIRA + RAW; evaluable + not evaluable
  = the group's patients), complementary suppression runs down every column and a row hiding one
  cell of a linked set hides the whole set, until nothing changes (`suppress_table`).
- **Whole breakdowns.** A breakdown shown only as shares per group (the Safety page's low-IgG tiles
  and MRI activity bars, the virtual-care tertiles) is hidden all together when any group's count or
  complement is small (`breakdown_hidden`). Stricter than complementary suppression, which tables of
  counts use (Table 1, the Subtypes table, the published panel, contact counts); both hide every
  small count and make it underivable from the totals, so a figure shown under both rules on two
  pages (low IgG per subtype) gives nothing away in combination.
- **Percentages of hidden counts** are never shown: `pct` gives "< k of N" or "≥ … of N" instead.
- **Top-coding.** A distribution over 1, 2, 3 … (attacks per patient) pools its tail, from the top
  down, into bins of at least k ("≥ a") (`top_code`).
- **Kaplan–Meier cut.** A curve is drawn only while at least k patients are at risk (`km_cut`), and
  an estimate S(t) is shown only with at least k at risk at t (`km_estimate_hidden`).
- **Anonymous numbering.** Patient IDs become "Patient 1", "Patient 2" … in an order fixed by the
  sha256 of the ID, so no ID, nor its order, shows (`anonymous_ids`).

The rule functions take the small-count test as a parameter (`small=`), so the same code serves the
page (viewer-aware, the default) and the tests (a fixed k).
"""

import hashlib
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pandas as pd
import streamlit as st

from analysis.survival import Curve
from ui.settings import min_count

HIDDEN = "hidden"
Small = Callable[[int | float | None], bool]


def role() -> str:
    """'team' or 'viewer' for the signed-in user; 'team' on a local run without sign-in."""
    return st.session_state.get("role", "team")


def viewer() -> bool:
    """True when the page must be safe to share: a viewer, or a team member previewing viewer mode."""
    return role() == "viewer" or bool(st.session_state.get("preview_viewer", False))


def small(n: float | None) -> bool:
    """A count that viewer mode hides (1 to k − 1)."""
    return viewer() and n is not None and not pd.isna(n) and 0 < n < min_count()


def count(n: float | None) -> str:
    """A count for display: '< k' for small counts in viewer mode."""
    if n is None or (isinstance(n, float) and pd.isna(n)):
        return "n/a"
    return f"< {min_count()}" if small(n) else f"{int(n):,}"


def counts(values: pd.Series) -> pd.Series:
    """A column of counts for display in viewer mode ('< k'); unchanged for the team."""
    return values.map(count) if viewer() else values


def suppress(cells: dict[str, tuple[int, int | None]], small: Small = small) -> dict[str, str]:
    """The cells of one row viewer mode hides, with why: 'small' (1..k−1), 'complement' (total − n
    is 1..k−1) or 'secondary' (a second cell hidden with a single one, so that it cannot be derived
    from the total). ``cells``: cell → (n, total or None).

    A cell named 'All' is the row's total: it is hidden as small or complement only, and takes no
    part in the complementary choice.
    """
    hidden = {}
    for g, (n, total) in cells.items():
        if small(n):
            hidden[g] = "small"
        elif total is not None and small(total - n):
            hidden[g] = "complement"
    parts = [g for g in cells if g != "All"]
    others = [g for g in parts if g not in hidden]
    if sum(g in hidden for g in parts) == 1 and others:
        # a partner that is neither 0 nor its total can trade values with the hidden one
        def at_bound(g: str) -> bool:
            n, total = cells[g]
            return n == 0 or (total is not None and n == total)

        hidden[min(others, key=lambda g: (at_bound(g), cells[g][0]))] = "secondary"
    return hidden


def suppress_cells(values: pd.Series, groups: pd.Series, small: Small = small) -> pd.Series:
    """Per cell of a long table (one count per row, rows grouped): True where viewer mode hides it,
    by `suppress` within each group."""
    hide = pd.Series(False, index=values.index)
    for idx in values.groupby(groups, sort=False).groups.values():
        cells = {i: (int(values[i]), None) for i in idx}
        for i in suppress(cells, small):
            hide[i] = True
    return hide


def suppress_table(
    rows: dict[str, dict[str, int]], linked: tuple[set[str], ...] = (), small: Small = small
) -> dict[str, dict[str, str]]:
    """The cells of a table of counts viewer mode hides, with why: 'small' (1..k−1) or 'secondary'
    (hidden so that no hidden count can be worked out). ``rows``: group → column → count; the
    groups add up to the row 'All' in every column, and each set in ``linked`` names cells of one
    row that add up to a total shown elsewhere.

    Until nothing changes: `suppress` down each column, a cell already hidden counting as hidden
    (a lone one gets a partner); a row hiding one cell of a linked set hides all of that set.
    """
    hide: dict[str, set[str]] = {g: set() for g in rows}
    columns = list(dict.fromkeys(c for cells in rows.values() for c in cells))

    def hidden_or_small(n: int | None) -> bool:
        return n is None or small(n)

    changed = True
    while changed:
        changed = False
        for column in columns:
            cells = {g: (None if column in hide[g] else rows[g][column], None) for g in rows}
            for g in suppress(cells, hidden_or_small):
                if column not in hide[g]:
                    hide[g].add(column)
                    changed = True
        for g in rows:
            for group in linked:
                if hide[g] & group and not group <= hide[g]:
                    hide[g] |= group
                    changed = True
    return {
        g: {c: "small" if small(rows[g][c]) else "secondary" for c in rows[g] if c in hide[g]}
        for g in rows
    }


def shown(n: float | None, reason: str | None) -> str:
    """A count as displayed given why it is hidden: '< k', 'hidden' (secondary), or the count."""
    return HIDDEN if reason == "secondary" else count(n)


def shown_cells(values: pd.Series, hide: pd.Series) -> list[str]:
    """Counts as displayed: '< k' for small ones, 'hidden' for those hidden to protect them."""
    return [count(n) if small(n) or not h else HIDDEN for n, h in zip(values, hide)]


def hidden_count(reason: str, total: int | None = None, k: int | None = None) -> str:
    """What stands in place of a count `suppress` hides: '< k' (small), '≥ N − k + 1' (complement
    of a total N, which must be given), 'hidden' (secondary)."""
    k = k or min_count()
    if reason == "small":
        return f"< {k}"
    if reason == "complement" and total is not None:
        return f"≥ {total - k + 1}"
    return HIDDEN


def share(n: int, total: int, reason: str | None, k: int | None = None) -> str:
    """'n of N (x %)', or what viewer mode may say instead given `suppress`'s reason."""
    if not total:
        return "n/a"
    if reason in ("small", "complement"):
        return f"{hidden_count(reason, total, k)} of {count(total)}"
    if reason == "secondary":
        return HIDDEN
    return f"{n:,} of {total:,} ({100 * n / total:.1f} %)"


def pct(n: int | None, total: int | None) -> str:
    """'n/N (x %)'; in viewer mode, when n or its complement is small, neither n nor the % is shown."""
    if not total:
        return "n/a"
    if small(n):
        return f"{count(n)} of {count(total)}"
    if small(total - (n or 0)):
        return f"≥ {total - min_count() + 1} of {count(total)}"
    return f"{n}/{total} ({100 * n / total:.1f} %)"


def breakdown_hidden(pairs: list[tuple[int, int]], small: Small = small) -> bool:
    """Whether a per-group breakdown of shares is hidden whole: any count or complement is small."""
    return any(small(n) or small(total - n) for n, total in pairs if total)


def top_code(patients: dict[int, int], small: Small = small) -> list[tuple[int, int, int]]:
    """A distribution over 0, 1, 2 … (value → patients) as (low, high, patients) bins: 0 alone, then
    from the top down each value joins the bin above until it holds a count viewer mode shows."""
    bins: list[list[int]] = []
    for a in sorted(patients, reverse=True):
        if a == 0:
            continue
        if bins and small(bins[-1][2]):
            bins[-1][0], bins[-1][2] = a, bins[-1][2] + patients[a]
        else:
            bins.append([a, a, patients[a]])
    if len(bins) > 1 and small(bins[-1][2]):
        low, _, n = bins.pop()  # what is left cannot reach k: it joins the bin above
        bins[-1][0], bins[-1][2] = low, bins[-1][2] + n
    head = [(0, 0, patients[0])] if 0 in patients else []
    return head + [tuple(b) for b in reversed(bins)]


def km_cut(curve: Curve, k: int | None = None) -> Curve:
    """The Kaplan–Meier curve as a viewer may see it: drawn only while ≥ k patients are at risk
    (empty when the group has fewer than k). ``k`` given: cut whoever looks (tests)."""
    if k is None:
        if not viewer():
            return curve
        k = min_count()
    if curve.n < k:
        return replace(curve, points=curve.points.iloc[0:0], censors=curve.censors.iloc[0:0],
                       cut_at=0.0)
    # at risk at t counts times ≥ t, so it stays ≥ k up to the k-th largest time
    limit = float(np.sort(curve.durations)[-k])
    if limit >= curve.durations.max():
        return curve
    return replace(
        curve,
        points=curve.points[curve.points["months"] <= limit].reset_index(drop=True),
        censors=curve.censors[curve.censors["months"] <= limit].reset_index(drop=True),
        cut_at=limit,
    )


def km_estimate_hidden(at_risk: int) -> bool:
    """Whether a Kaplan–Meier estimate S(t) is hidden: fewer than k patients at risk at t (the same
    rule as `km_cut`, for estimates shown in tables)."""
    return viewer() and at_risk < min_count()


def anonymous_ids(ids: pd.Series, anonymous: bool | None = None) -> pd.Series:
    """Patient IDs as shown: themselves for the team, stable anonymous numbers for viewers."""
    if not (viewer() if anonymous is None else anonymous):
        return ids
    order = sorted(ids.dropna().unique(), key=lambda x: hashlib.sha256(str(x).encode()).hexdigest())
    numbers = {pid: f"Patient {i + 1}" for i, pid in enumerate(order)}
    return ids.map(numbers)
