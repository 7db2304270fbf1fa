"""Table 1 as displayed: cells as text, with viewer mode's suppression (ui.privacy)."""

from collections.abc import Callable

import pandas as pd

from analysis.table1 import MEAN_SD, N_PCT, Row
from ui import privacy


def _num(x: float | None, integer: bool) -> str:
    if x is None:
        return "n/a"
    if integer and float(x).is_integer():
        return f"{x:.0f}"
    return f"{x:.1f}"


def format_cell(
    row: Row, cell: dict, count: Callable[[int], str], k: int, hidden: str | None = None
) -> str:
    """One cell as text; ``hidden`` (from ``privacy.suppress``) replaces a count viewer mode hides."""
    var = row.variable
    if var.statistic == N_PCT:
        n, total = cell["n"], cell["total"]
        if not total:
            return "n/a"
        if hidden:
            return privacy.hidden_count(hidden, total, k)
        return f"{count(n)} ({100 * n / total:.1f} %)"
    if not cell["n"]:
        return "n/a"
    if var.statistic == MEAN_SD:
        sd = "n/a" if cell["sd"] is None else f"{cell['sd']:.1f}"
        return f"{cell['mean']:.1f} ± {sd}"
    if cell["q1"] is None:
        return f"{_num(cell['median'], var.integer)} [n/a]"
    return (
        f"{_num(cell['median'], var.integer)} "
        f"[{_num(cell['q1'], var.integer)}–{_num(cell['q3'], var.integer)}]"
    )


def format_table(
    rows: list[Row],
    sizes: dict[str, int],
    p_text: Callable[[float | None], str],
    count: Callable[[int], str] = lambda n: f"{n:,}",
    small: Callable[[int], bool] = lambda n: False,
    k: int = 5,
    p_header: str = "p",
) -> pd.DataFrame:
    """The rows as a display table: one column per group ('All' first) headed with its n.

    With a viewer-mode ``small``: a group of 1..k−1 patients shows no values (no patient's own
    values appear), and counts are suppressed per ``privacy.suppress``.
    """
    groups = [g for g in sizes if g != "All"]
    size_hidden = privacy.suppress({g: (sizes[g], None) for g in groups}, small)
    headers = {
        g: f"{g} (n = {'hidden' if size_hidden.get(g) == 'secondary' else count(n)})"
        for g, n in sizes.items()
    }
    records = []
    for row in rows:
        record = {"Characteristic": f"{row.variable.label}, {row.variable.statistic}"}
        count_hidden = {}
        if row.variable.statistic == N_PCT:
            count_hidden = privacy.suppress(
                {g: (row.cells[g]["n"], row.cells[g]["total"]) for g in ["All", *groups]}, small
            )
        for g, size in sizes.items():
            if small(size):
                record[headers[g]] = f"hidden (< {k} patients)"
            else:
                record[headers[g]] = format_cell(row, row.cells[g], count, k, count_hidden.get(g))
        record["Test"] = row.test or "n/a (one group)"
        record[p_header] = p_text(row.p) if row.test and row.p is not None else "n/a"
        records.append(record)
    return pd.DataFrame.from_records(records)
