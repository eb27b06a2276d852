"""The survey's rules: validation, NRR, the index, its category boundaries and the sample size."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from queue_server.domain import survey
from queue_server.domain.errors import Conflict, Invalid
from queue_server.reports import stats

ALL_THREE = {f"u{i}": 3 for i in range(1, 10)}


def test_nine_elements_have_names_and_questions_in_both_languages() -> None:
    """u1..u9 in order, u1 Persyaratan and u9 Sarana dan Prasarana, each with an English text too."""
    assert tuple(f"u{i}" for i in range(1, 10)) == survey.ELEMENT_IDS
    assert survey.ELEMENTS[0].name["id"] == "Persyaratan"
    assert survey.ELEMENTS[8].name["id"] == "Sarana dan Prasarana"
    assert all(e.name["en"] and e.question["en"] and e.question["id"] for e in survey.ELEMENTS)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"rating": 0},
        {"rating": 5},
        {"rating": True},
        {"rating": "4"},
        {"elements": {**ALL_THREE, "u10": 3}},
        {"elements": {"u1": 3}},
        {"elements": {**ALL_THREE, "u5": 7}},
        {"elements": ALL_THREE, "comment": "x" * 1001},
        {"rating": 3, "extra": 1},
    ],
)
def test_a_bad_answer_is_invalid_survey(body: dict[str, object]) -> None:
    """Outside 1..4, an unknown element, some but not all nine, an empty body or a long comment."""
    with pytest.raises(Invalid) as caught:
        survey.validate(body)
    assert caught.value.code == "invalid_survey"


def test_a_rating_a_full_survey_or_both_are_accepted() -> None:
    """The one-tap rating alone, the nine elements with a 1,000-character comment, or both."""
    assert survey.validate({"rating": 4}) == survey.Answer(4, None, None)
    full = survey.validate({"elements": ALL_THREE, "comment": "c" * 1000})
    assert full.elements == ALL_THREE and full.comment == "c" * 1000
    assert survey.validate({"rating": 1, "elements": ALL_THREE}).rating == 1


def test_only_a_done_ticket_answers_and_only_once() -> None:
    """A waiting ticket: ticket_not_finished; a done ticket with an answer: survey_already_answered."""
    with pytest.raises(Conflict) as caught:
        survey.check_answerable("waiting", "A001", False)
    assert caught.value.code == "ticket_not_finished"
    with pytest.raises(Conflict) as caught:
        survey.check_answerable("done", "A001", True)
    assert caught.value.code == "survey_already_answered"
    survey.check_answerable("done", "A001", False)


@pytest.mark.parametrize(
    ("ikm", "letter", "quality"),
    [
        (25.00, "D", "Tidak baik"),
        (64.99, "D", "Tidak baik"),
        (65.00, "C", "Kurang baik"),
        (76.60, "C", "Kurang baik"),
        (76.61, "B", "Baik"),
        (88.30, "B", "Baik"),
        (88.31, "A", "Sangat baik"),
        (100.00, "A", "Sangat baik"),
    ],
)
def test_category_boundaries_are_the_regulations(ikm: float, letter: str, quality: str) -> None:
    """25.00-64.99 D, 65.00-76.60 C, 76.61-88.30 B, 88.31-100.00 A, from the rounded index."""
    assert survey.category(ikm) == (letter, {"id": quality, "en": survey.category(ikm)[1]["en"]})


def test_the_index_is_25_times_the_mean_nrr_rounded_half_up() -> None:
    """NRR 3.0642 everywhere: 25 x 3.0642 = 76.605, rounded to 76.61, which is B (not C)."""
    assert survey.ikm([3.0642] * 9) == 76.61
    assert survey.category(survey.ikm([3.0642] * 9))[0] == "B"
    assert survey.ikm([4.0] * 9) == 100.0 and survey.ikm([1.0] * 9) == 25.0


def test_an_ikm_report_worked_by_hand() -> None:
    """Four respondents: u1 answers 4,3,3,3 (NRR 3.25), u2..u9 all 3 (NRR 3.00).

    IKM = 25 x (3.25 + 8 x 3) / 9 = 25 x 27.25 / 9 = 75.69 (75.694...) -> C "Kurang baik".
    """
    totals = {"u1": 13, **{f"u{i}": 12 for i in range(2, 10)}}
    report = stats.ikm_report(totals, 4, "id")
    assert report["elements"][0] == {"id": "u1", "name": "Persyaratan", "nrr": 3.25}
    assert report["elements"][1]["nrr"] == 3.0
    assert (report["ikm"], report["category"], report["quality"]) == (75.69, "C", "Kurang baik")
    empty = stats.ikm_report({}, 0, "id")
    assert (empty["ikm"], empty["category"], empty["quality"]) == (None, None, None)
    assert all(e["nrr"] is None for e in empty["elements"])


def test_rating_summary_counts_each_face() -> None:
    """30 ratings: 2 twos, 12 threes, 16 fours -> mean (4 + 36 + 64) / 30 = 3.47."""
    summary = stats.rating_summary({2: 2, 3: 12, 4: 16})
    assert summary == {"respondents": 30, "mean": 3.47, "counts": {"1": 0, "2": 2, "3": 12, "4": 16}}
    assert stats.rating_summary({})["mean"] is None


@pytest.mark.parametrize(
    ("population", "needed"), [(0, 0), (10, 10), (50, 44), (100, 80), (1000, 278), (10**6, 384)]
)
def test_krejcie_morgan_sample_sizes_match_the_published_table(population: int, needed: int) -> None:
    """The sample needed for N visitors, as in Krejcie and Morgan's table."""
    assert survey.sample_size(population) == needed


@given(st.lists(st.floats(min_value=1, max_value=4), min_size=9, max_size=9))
def test_the_index_always_lies_between_25_and_100(nrrs: list[float]) -> None:
    """Any nine NRRs in 1..4 give an index in 25..100 with a category."""
    value = survey.ikm(nrrs)
    assert 25 <= value <= 100
    assert survey.category(value)[0] in "ABCD"


def test_percentiles_interpolate_like_numpy() -> None:
    """numpy.percentile([1, 2, 3, 4], 90) is 3.7; of one value, that value."""
    assert stats.percentile([1, 2, 3, 4], 90) == pytest.approx(3.7)
    assert stats.percentile([7], 90) == 7
    assert stats.summary([]) == {"mean": None, "median": None, "p90": None}
