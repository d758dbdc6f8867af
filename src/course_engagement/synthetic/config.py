"""The generator's settings, vocabulary and shape (weights of hours, weekdays, sessions), and
the seeded random streams every draw comes from: the same arguments give the same bytes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

DAY = 86_400
EPOCH = dt.date(1970, 1, 1)

FIRST_NAMES = (
    "Ada Alan Amara Ben Chloe Dev Elena Farah Grace Hugo Ines Jamal Kai Lena Mateo Nia Omar "
    "Priya Quinn Rosa Sam Tariq Uma Vera Wen Xavier Yara Zoe"
).split()
LAST_NAMES = (
    "Okafor Smith Nguyen Garcia Khan Muller Rossi Silva Tanaka Kowalski Haddad Brown Novak "
    "Dubois Ivanova Mensah Park Costa Jensen Walsh"
).split()
CATEGORIES = (
    "Data Science",
    "Cloud Computing",
    "Leadership",
    "Cyber Security",
    "Project Management",
    "Design",
    "Policy",
    "Digital Skills",
)
TOPICS = (
    "Python",
    "SQL",
    "Statistics",
    "Networking",
    "Negotiation",
    "Agile Delivery",
    "User Research",
    "Risk",
    "Procurement",
    "Accessibility",
    "Machine Learning",
    "Budgeting",
    "Writing",
    "Cloud Security",
    "Data Ethics",
)
QUALIFIERS = ("Foundations of", "Practical", "Advanced", "Applied", "Introduction to", "Mastering")
PUBLISHERS = (
    "Civil Service College",
    "Open Learning Co",
    "Academy North",
    "TechSkills",
    "GovDigital",
)
LEVELS = ("Beginner", "Intermediate", "Advanced")
UNKNOWN_EVENT_TYPES = ("video_pause", "scorm_launch", "certificate_view", "forum_post")
STANDALONE_TYPES = ("page_view", "video_start", "quiz_start", "download", "other")
USER_STATES_LIVE = ("active", "pending", "suspended")

# A session is one of these sequences; an unfinished one (cut at the end of a day's quota) is
# realistic too: people close the tab.
SESSION_TEMPLATES: tuple[tuple[str, ...], ...] = (
    ("page_view", "video_start", "video_complete"),
    ("video_start", "video_complete", "quiz_start", "quiz_submit"),
    ("page_view", "download"),
    ("quiz_start", "quiz_submit"),
    ("page_view", "video_start", "video_complete", "video_start", "video_complete"),
    ("page_view", "video_start"),
    ("page_view", "other"),
    ("page_view",),
)
TEMPLATE_WEIGHTS = np.array([0.24, 0.18, 0.10, 0.12, 0.10, 0.10, 0.06, 0.10])
# Hour-of-day weights (UTC): quiet nights, a working-day plateau and an evening shoulder.
HOUR_WEIGHTS = np.array(
    [1, 1, 1, 1, 1, 2, 3, 6, 10, 14, 15, 14, 12, 13, 14, 14, 12, 9, 8, 8, 7, 5, 3, 0], float
)
WEEKDAY_WEIGHTS = np.array([1.0, 1.0, 1.0, 1.0, 0.9, 0.5, 0.45])  # Monday first

SESSION_ALPHABET = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz0123456789", dtype=np.uint8)
SESSION_SPACE = 36**6
SESSION_MULTIPLIER = 1_299_709  # prime, coprime with 36**6: n -> n * m mod 36**6 is a bijection


@dataclass(frozen=True)
class GeneratorConfig:
    users: int = 1_000
    courses: int = 60
    enrolments: int = 3_000
    events: int = 20_000
    seed: int = 42
    end_date: dt.date = dt.date(2026, 10, 31)
    days: int = 365
    defect_rate: float = 0.01
    defect_rates: dict[str, float] = field(default_factory=dict)
    file_format: str = "csv"

    def rate(self, defect: str) -> float:
        return self.defect_rates.get(defect, self.defect_rate)

    @property
    def start_date(self) -> dt.date:
        return self.end_date - dt.timedelta(days=self.days - 1)


def planted(config: GeneratorConfig, defect: str, population: int) -> int:
    """How many of one defect class to plant: the rate times its population, at least three."""
    rate = config.rate(defect)
    if rate <= 0 or population <= 0:
        return 0
    return min(population, max(3, round(rate * population)))


def epoch_seconds(day: dt.date) -> int:
    return (day - EPOCH).days * DAY


def rng_for(config: GeneratorConfig, *stream: int) -> np.random.Generator:
    return np.random.default_rng([config.seed, *stream])


def session_codes(numbers: np.ndarray) -> pa.Array:
    """Six lowercase alphanumerics per session number, unique and random-looking."""
    scrambled = (numbers.astype(np.int64) * SESSION_MULTIPLIER + 7_919) % SESSION_SPACE
    digits = np.empty((len(numbers), 6), dtype=np.uint8)
    for position in range(5, -1, -1):
        digits[:, position] = SESSION_ALPHABET[scrambled % 36]
        scrambled //= 36
    return pa.array(digits.view("S6").ravel()).cast(pa.string())


def random_hours(rng: np.random.Generator, size: int) -> np.ndarray:
    return rng.choice(24, size=size, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())


def variant(rng: np.random.Generator, value: str) -> str:
    """A whitespace or case variant that normalises back to `value`."""
    options = (f" {value}", f"{value} ", value.upper(), value.lower(), f"  {value.title()} ")
    choices = [option for option in options if option != value]
    return choices[int(rng.integers(len(choices)))]


def mutate_categorical(
    rng: np.random.Generator, values: list[str], n_empty: int, n_variant: int, eligible: np.ndarray
) -> None:
    """Blank `n_empty` and vary `n_variant` distinct rows among `eligible`, in place."""
    picked = rng.choice(eligible, size=min(len(eligible), n_empty + n_variant), replace=False)
    for row in picked[:n_empty]:
        values[row] = rng.choice(["", "   "]).item()
    for row in picked[n_empty:]:
        values[row] = variant(rng, values[row])
