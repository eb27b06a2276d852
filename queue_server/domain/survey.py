"""The satisfaction survey (Survei Kepuasan Masyarakat, PermenPAN-RB 14/2017): pure rules.

Nine elements u1..u9, each answered 1 (tidak baik) .. 4 (sangat baik). The index
(IKM) is 25 x the mean of the nine element averages (NRR); its category comes
from the IKM rounded to 2 decimals, with the regulation's boundaries. Standard
library only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from queue_server.domain.errors import Conflict, Invalid

COMMENT_MAX = 1000
ANSWERS = range(1, 5)


@dataclass(frozen=True)
class Element:
    id: str
    name: dict[str, str]
    question: dict[str, str]


ELEMENTS: tuple[Element, ...] = (
    Element(
        "u1",
        {"id": "Persyaratan", "en": "Requirements"},
        {
            "id": "Bagaimana pendapat Anda tentang kesesuaian persyaratan pelayanan "
            "dengan jenis pelayanannya?",
            "en": "How well do the requirements fit the service you received?",
        },
    ),
    Element(
        "u2",
        {"id": "Sistem, Mekanisme, dan Prosedur", "en": "Systems, mechanisms and procedures"},
        {
            "id": "Bagaimana pemahaman Anda tentang kemudahan prosedur pelayanan di unit ini?",
            "en": "How easy was the service procedure here?",
        },
    ),
    Element(
        "u3",
        {"id": "Waktu Penyelesaian", "en": "Completion time"},
        {
            "id": "Bagaimana pendapat Anda tentang kecepatan waktu dalam memberikan pelayanan?",
            "en": "How quick was the service?",
        },
    ),
    Element(
        "u4",
        {"id": "Biaya/Tarif", "en": "Cost / fee"},
        {
            "id": "Bagaimana pendapat Anda tentang kewajaran biaya/tarif dalam pelayanan?",
            "en": "How fair was the cost or fee of the service?",
        },
    ),
    Element(
        "u5",
        {"id": "Produk Spesifikasi Jenis Pelayanan", "en": "Service product specification"},
        {
            "id": "Bagaimana pendapat Anda tentang kesesuaian produk pelayanan antara yang tercantum "
            "dalam standar pelayanan dengan hasil yang diberikan?",
            "en": "How well did the result match what the service standard promises?",
        },
    ),
    Element(
        "u6",
        {"id": "Kompetensi Pelaksana", "en": "Staff competence"},
        {
            "id": "Bagaimana pendapat Anda tentang kompetensi/kemampuan petugas dalam pelayanan?",
            "en": "How competent was the officer who served you?",
        },
    ),
    Element(
        "u7",
        {"id": "Perilaku Pelaksana", "en": "Staff conduct"},
        {
            "id": "Bagaimana pendapat Anda tentang perilaku petugas dalam pelayanan terkait kesopanan "
            "dan keramahan?",
            "en": "How polite and friendly was the officer?",
        },
    ),
    Element(
        "u8",
        {"id": "Penanganan Pengaduan, Saran dan Masukan", "en": "Handling of complaints and suggestions"},
        {
            "id": "Bagaimana pendapat Anda tentang penanganan pengaduan, saran dan masukan?",
            "en": "How well are complaints, suggestions and feedback handled?",
        },
    ),
    Element(
        "u9",
        {"id": "Sarana dan Prasarana", "en": "Facilities"},
        {
            "id": "Bagaimana pendapat Anda tentang kualitas sarana dan prasarana?",
            "en": "How good are the facilities?",
        },
    ),
)
ELEMENT_IDS: tuple[str, ...] = tuple(e.id for e in ELEMENTS)

# (lowest rounded IKM, category, quality in Indonesian, in English), highest first.
CATEGORIES: tuple[tuple[float, str, str, str], ...] = (
    (88.31, "A", "Sangat baik", "Very good"),
    (76.61, "B", "Baik", "Good"),
    (65.00, "C", "Kurang baik", "Poor"),
    (25.00, "D", "Tidak baik", "Bad"),
)


@dataclass(frozen=True)
class Answer:
    """One visitor's answer: the one-tap rating, the nine elements, or both."""

    rating: int | None
    elements: dict[str, int] | None
    comment: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"rating": self.rating, "elements": self.elements, "comment": self.comment}


def _invalid(message: str) -> Invalid:
    return Invalid("invalid_survey", message)


def _score(value: Any, name: str) -> int:
    # bool is an int in Python; a JSON true is not an answer.
    if isinstance(value, bool) or not isinstance(value, int) or value not in ANSWERS:
        raise _invalid(f"{name} must be a whole number from 1 to 4")
    return value


def validate(data: dict[str, Any]) -> Answer:
    """The answer in a body {"rating"?, "elements"?, "comment"?}, or Invalid `invalid_survey`."""
    unknown = set(data) - {"rating", "elements", "comment"}
    if unknown:
        raise _invalid(f"unknown field {sorted(unknown)[0]!r}")
    rating = data.get("rating")
    elements = data.get("elements")
    comment = data.get("comment")
    if rating is None and elements is None:
        raise _invalid("give a rating, the nine elements, or both")
    if rating is not None:
        rating = _score(rating, "rating")
    if elements is not None:
        if not isinstance(elements, dict):
            raise _invalid("elements must be an object of u1..u9")
        extra = set(elements) - set(ELEMENT_IDS)
        if extra:
            raise _invalid(f"unknown element {sorted(extra)[0]!r}")
        missing = [e for e in ELEMENT_IDS if e not in elements]
        if missing:
            raise _invalid(f"all nine elements are needed; missing {', '.join(missing)}")
        elements = {e: _score(elements[e], e) for e in ELEMENT_IDS}
    if comment is not None:
        if not isinstance(comment, str):
            raise _invalid("comment must be text")
        if len(comment) > COMMENT_MAX:
            raise _invalid(f"comment is longer than {COMMENT_MAX} characters")
        if elements is None:
            raise _invalid("a comment comes with the full survey")
        comment = comment.strip() or None
    return Answer(rating, elements, comment)


def nrr(total: int, respondents: int) -> float | None:
    """An element's average (nilai rata-rata), unrounded; None without respondents."""
    return total / respondents if respondents else None


def ikm(nrrs: list[float]) -> float:
    """25 x the weighted (1/9 each) sum of the NRRs, rounded to 2 decimals."""
    return round_half_up(25 * sum(n / len(nrrs) for n in nrrs))


def round_half_up(value: float, digits: int = 2) -> float:
    """Rounding as the regulation's tables do (81.945 -> 81.95), not banker's rounding."""
    scale: float = 10.0**digits
    return math.floor(value * scale + 0.5 + 1e-9) / scale


def category(rounded_ikm: float) -> tuple[str, dict[str, str]]:
    """(letter, quality in both languages) of a rounded IKM."""
    for lowest, letter, quality_id, quality_en in CATEGORIES:
        if rounded_ikm >= lowest:
            return letter, {"id": quality_id, "en": quality_en}
    return "D", {"id": "Tidak baik", "en": "Bad"}


def sample_size(population: int) -> int:
    """Krejcie and Morgan (1970): respondents needed for N visitors (chi2 = 3.841, P = 0.5, d = 0.05)."""
    if population <= 0:
        return 0
    chi2, p, d = 3.841, 0.5, 0.05
    n = chi2 * population * p * (1 - p) / (d * d * (population - 1) + chi2 * p * (1 - p))
    # The published table rounds to the nearest whole respondent (N=50 -> 44, N=100 -> 80).
    return math.floor(n + 0.5)


def check_answerable(status: str, number: str, already: bool) -> None:
    """Only a finished (`done`) ticket may answer, and only once."""
    if status != "done":
        message = f"ticket {number} is {status}; the survey opens when it is done"
        raise Conflict("ticket_not_finished", message, {"status": status})
    if already:
        raise Conflict("survey_already_answered", f"ticket {number} has answered the survey already")
