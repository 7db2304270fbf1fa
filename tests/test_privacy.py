"""The one privacy module (ui/privacy.py): each viewer-mode rule on tiny hand-made inputs.

Expected values are worked out by hand in each test (k = 5: counts 1..4 are small).
"""

import pandas as pd
import pytest

from analysis import survival
from ui import privacy

K = 5


def small(n):
    return n is not None and 0 < n < K


@pytest.fixture
def as_viewer(monkeypatch):
    monkeypatch.setattr(privacy, "viewer", lambda: True)
    monkeypatch.setattr(privacy, "min_count", lambda: K)


@pytest.fixture
def as_team(monkeypatch):
    monkeypatch.setattr(privacy, "viewer", lambda: False)
    monkeypatch.setattr(privacy, "min_count", lambda: K)


def test_counts_from_one_to_k_minus_one_show_as_less_than_k(as_viewer):
    shown = [privacy.count(n) for n in (0, 1, 4, 5, 1234)]

    assert shown == ["0", "< 5", "< 5", "5", "1,234"]


def test_the_team_sees_every_count(as_team):
    assert [privacy.count(n) for n in (0, 1, 4, None)] == ["0", "1", "4", "n/a"]


def test_a_count_whose_complement_is_small_is_hidden_as_a_bound():
    # C: 9 of 12, complement 3 is small; A: 3 is small; B: 12 of 20 and 8 of 20 both shown
    assert privacy.suppress({"A": (3, 10), "B": (12, 20), "C": (9, 12)}, small) == {
        "A": "small",
        "C": "complement",
    }


def test_a_single_hidden_cell_gets_a_partner_that_is_neither_zero_nor_its_total():
    # A alone would follow from the total: B (0) is at a bound, so C is hidden with it
    assert privacy.suppress({"A": (2, 10), "B": (0, 20), "C": (9, 30)}, small) == {
        "A": "small",
        "C": "secondary",
    }


def test_no_cell_is_hidden_when_none_is_small():
    assert privacy.suppress({"A": (6, 20), "B": (7, 20)}, small) == {}


def test_a_partner_is_hidden_even_when_every_other_cell_is_zero():
    # the disagreement: the virtual-care page hid no partner here, Table 1 hid one; the stricter holds
    assert privacy.suppress({"A": (3, None), "B": (0, None), "C": (0, None)}, small) == {
        "A": "small",
        "B": "secondary",
    }


def test_the_row_total_is_hidden_by_itself_but_never_chosen_as_partner():
    # All: 8 of 10, complement 2 small; of the parts only A (2) is small, so B is the partner
    cells = {"All": (8, 10), "A": (2, 4), "B": (6, 6)}

    assert privacy.suppress(cells, small) == {"All": "complement", "A": "small", "B": "secondary"}


def test_two_hidden_cells_need_no_partner():
    assert privacy.suppress({"A": (1, None), "B": (2, None), "C": (30, None)}, small) == {
        "A": "small",
        "B": "small",
    }


def test_cells_of_a_long_table_are_suppressed_within_their_group():
    values = pd.Series([3, 10, 12, 20, 30, 0])
    groups = pd.Series(["x", "x", "x", "y", "y", "y"])

    hide = privacy.suppress_cells(values, groups, small)

    # group x: 3 small, 10 the smallest other non-zero; group y: nothing small
    assert list(hide) == [True, True, False, False, False, False]


def test_a_lone_small_cell_of_a_column_gets_a_partner_but_never_the_all_row():
    # A (2) alone would follow from All (11) − B − C: C is 0 (at a bound), All is the total, so B
    assert privacy.suppress_table(
        {"A": {"n": 2}, "B": {"n": 9}, "C": {"n": 0}, "All": {"n": 11}}, small=small
    ) == {"A": {"n": "small"}, "B": {"n": "secondary"}, "C": {}, "All": {}}


def test_a_row_hiding_one_linked_cell_hides_the_rest_of_its_set():
    # events = pira + raw. raw: RRMS 2 is small, its partner is SPMS 5 (PPMS 0 is at a bound);
    # pira: RRMS 4 is small, its partner SPMS 5 (smaller than PPMS 7). Each of those rows then
    # hides its events too, else events − pira would give raw away. The events column then holds
    # two hidden cells (RRMS, SPMS), so it needs no further partner: PPMS and All stay shown.
    rows = {
        "RRMS": {"events": 6, "pira": 4, "raw": 2},
        "SPMS": {"events": 10, "pira": 5, "raw": 5},
        "PPMS": {"events": 7, "pira": 7, "raw": 0},
        "All": {"events": 23, "pira": 16, "raw": 7},
    }
    hidden = privacy.suppress_table(rows, ({"events", "pira", "raw"},), small)

    assert hidden == {
        "RRMS": {"events": "secondary", "pira": "small", "raw": "small"},
        "SPMS": {"events": "secondary", "pira": "secondary", "raw": "secondary"},
        "PPMS": {},
        "All": {},
    }


def test_a_cell_hidden_for_its_row_gets_a_partner_in_its_column():
    # not_evaluable: RRMS 3 is small, its partner is SPMS 6 (smaller than PPMS 9); the linked
    # evaluable cells of RRMS and SPMS go with them. The loop runs until nothing changes: the
    # evaluable column then holds two hidden cells, so nothing more is hidden.
    rows = {
        "RRMS": {"evaluable": 20, "not_evaluable": 3},
        "SPMS": {"evaluable": 30, "not_evaluable": 6},
        "PPMS": {"evaluable": 40, "not_evaluable": 9},
        "All": {"evaluable": 90, "not_evaluable": 18},
    }
    hidden = privacy.suppress_table(rows, ({"evaluable", "not_evaluable"},), small)

    assert hidden["RRMS"] == {"evaluable": "secondary", "not_evaluable": "small"}
    assert hidden["SPMS"] == {"evaluable": "secondary", "not_evaluable": "secondary"}
    assert hidden["PPMS"] == hidden["All"] == {}


def test_the_team_sees_every_cell_of_a_table(as_team):
    rows = {"A": {"n": 2, "m": 1}, "B": {"n": 9, "m": 3}, "All": {"n": 11, "m": 4}}
    assert privacy.suppress_table(rows, ({"n", "m"},)) == {"A": {}, "B": {}, "All": {}}


def test_shown_cells_say_less_than_k_or_hidden(as_viewer):
    values = pd.Series([3, 10, 12])

    shown = privacy.shown_cells(values, pd.Series([True, True, False]))

    assert shown == ["< 5", "hidden", "12"]


def test_a_share_of_a_hidden_count_shows_no_percentage(as_viewer):
    assert privacy.share(3, 40, "small") == "< 5 of 40"
    assert privacy.share(38, 40, "complement") == "≥ 36 of 40"
    assert privacy.share(10, 40, "secondary") == "hidden"
    assert privacy.share(10, 40, None) == "10 of 40 (25.0 %)"
    assert privacy.share(0, 0, None) == "n/a"


def test_pct_hides_the_percentage_of_a_small_count_or_complement(as_viewer):
    assert privacy.pct(2, 99) == "< 5 of 99"
    assert privacy.pct(97, 99) == "≥ 95 of 99"
    assert privacy.pct(20, 99) == "20/99 (20.2 %)"


def test_pct_for_the_team_shows_every_share(as_team):
    assert privacy.pct(2, 99) == "2/99 (2.0 %)"


def test_a_breakdown_with_any_small_count_or_complement_is_hidden_whole():
    assert privacy.breakdown_hidden([(0, 42), (6, 43), (1, 10)], small)
    assert privacy.breakdown_hidden([(40, 42), (6, 43)], small)  # complement 2
    assert not privacy.breakdown_hidden([(0, 42), (6, 43), (0, 0)], small)


def test_a_small_tail_is_top_coded_into_a_bin_of_at_least_k():
    # 0: 80, 1: 13, 2: 4, 3: 2 -> 3 (2) joins 2 (4) = 6 patients with >= 2
    bins = privacy.top_code({0: 80, 1: 13, 2: 4, 3: 2}, small)

    assert bins == [(0, 0, 80), (1, 1, 13), (2, 3, 6)]


def test_a_tail_that_never_reaches_k_joins_the_bin_below():
    # 1: 6, 2: 1, 3: 1 -> 3 + 2 = 2 patients, still small: pooled with 1 into 1..3 (8)
    bins = privacy.top_code({0: 10, 1: 6, 2: 1, 3: 1}, small)

    assert bins == [(0, 0, 10), (1, 3, 8)]


def test_top_coding_leaves_a_distribution_without_small_counts_alone():
    assert privacy.top_code({0: 10, 1: 6, 2: 5}, small) == [(0, 0, 10), (1, 1, 6), (2, 2, 5)]


def test_km_cut_ends_the_curve_where_fewer_than_k_are_at_risk():
    # times 1..8: at risk at t is the number of times ≥ t, so ≥ 5 up to t = 4 (times 4..8)
    months = pd.Series([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0])
    event = pd.Series([True, False, True, False, True, False, False, False])

    c = privacy.km_cut(survival.curve("x", months, event), k=5)

    assert c.cut_at == 4.0
    assert c.end == 4.0
    assert c.points["at_risk"].min() >= 5
    assert c.censors["months"].max() <= 4.0


def test_km_cut_hides_a_group_smaller_than_k():
    c = privacy.km_cut(survival.curve("x", pd.Series([1.0, 2.0, 3.0]), pd.Series([True] * 3)), k=5)

    assert c.points.empty and c.censors.empty


def test_the_team_sees_the_whole_curve(as_team):
    c = survival.curve("x", pd.Series([1.0, 2.0, 3.0]), pd.Series([True] * 3))

    assert privacy.km_cut(c) is c


def test_an_estimate_with_fewer_than_k_at_risk_is_hidden_from_viewers(as_viewer):
    assert [privacy.km_estimate_hidden(n) for n in (0, 4, 5)] == [True, True, False]


def test_the_team_sees_every_estimate(as_team):
    assert not privacy.km_estimate_hidden(1)


def test_anonymous_numbers_follow_the_sha256_of_the_id_not_the_id(as_viewer):
    ids = pd.Series(["RTX-002", "RTX-001", "RTX-002"])

    shown = privacy.anonymous_ids(ids)

    # sha256("RTX-001") starts 4420…, sha256("RTX-002") starts 7598… (hashlib): RTX-001 comes first
    assert shown.tolist() == ["Patient 2", "Patient 1", "Patient 2"]


def test_the_team_sees_patient_ids(as_team):
    ids = pd.Series(["RTX-001"])

    assert privacy.anonymous_ids(ids).tolist() == ["RTX-001"]


def test_hidden_count_says_what_stands_in_for_each_reason():
    assert privacy.hidden_count("small", k=5) == "< 5"
    assert privacy.hidden_count("complement", 40, k=5) == "≥ 36"  # 40 − 5 + 1: at most 4 not counted
    assert privacy.hidden_count("secondary", 40, k=5) == "hidden"
    assert privacy.hidden_count("complement", None, k=5) == "hidden"  # no total: nothing to bound
