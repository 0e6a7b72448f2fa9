"""Deterministic generator of the simulated survey used throughout the site.

**The survey data in this package are simulated.** The course assignment uses
respondent-level Afrobarometer data that cannot be redistributed, so this module
builds a stand-in with the same columns from a known multilevel model. Country
names follow Afrobarometer Round 7 (without Sudan); everything else (sample
sizes, trade figures, parties, every response) is invented.

Generative model (country ``j``, party ``k`` nested in country, respondent ``i``)::

    alpha_j = gamma_0 + gamma_1 * (log trade_j - mean log trade) + eta_j
    beta_j  = beta + delta_j
    (eta_j, delta_j) ~ bivariate normal, sds (tau_alpha, tau_beta), correlation rho
    u_k     ~ Normal(0, sigma_party)
    china_i = alpha_j[i] + beta_j[i] * (antiauth_i - antiauth_center) + u_k[i] + e_i
    e_i     ~ Normal(0, sigma_y)

``mean log trade`` is the unweighted mean over the 33 countries of the natural log
of ``trade_china`` and ``antiauth_center`` is the population value 2.5 (the value
the generator centres on, not a sample mean). ``china`` is stored with two
decimals (a continuous score on the 1-5 scale, e.g. a mean of several items) and
clipped to [1, 5] only as a guard.

The two late-arriving countries, Zudan and Zudania, are deliberate outliers built
outside the hierarchy: Zudan has a handful of respondents whose sample mean is set
exactly to a low target, Zudania has thousands of respondents centred well above
the others. See ``data/README.md`` for the numbers and the reasoning.

Run ``python -m pooling.simulate data`` (or ``make data``) to rewrite the CSV files in
``data/`` byte for byte: ``survey.csv``, ``survey_new_countries.csv`` and the answer keys
``survey_truth.csv`` (true alpha_j, beta_j per country) and ``survey_party_truth.csv``
(true party effects).
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "SEED",
    "TRUE_PARAMETERS",
    "TrueParameters",
    "COUNTRY_SIZES",
    "TRADE_CHINA",
    "NEW_COUNTRIES",
    "simulate",
    "write_data",
    "main",
]

#: Seed of ``numpy.random.default_rng``; changing it changes every simulated value.
SEED = 20250623


@dataclass(frozen=True)
class TrueParameters:
    """True values of the generative model (units: points of the 1-5 ``china`` score)."""

    gamma_0: float = 3.2  # expected china at mean log trade and antiauth = antiauth_center
    gamma_1: float = 0.10  # change in a country's intercept per unit of log trade (log USD millions)
    tau_alpha: float = 0.16  # SD of country intercepts around the trade regression line
    beta: float = -0.10  # average change in china per antiauth point
    tau_beta: float = 0.04  # SD of country slopes around beta
    rho: float = -0.3  # correlation of country intercept and slope deviations
    sigma_party: float = 0.08  # SD of party effects within country
    sigma_y: float = 0.50  # SD of individual residuals
    antiauth_center: float = 2.5  # centring constant of antiauth (population value)
    antiauth_mean: float = 2.5  # population mean of the latent antiauth index
    antiauth_country_sd: float = 0.20  # SD of country means of the latent antiauth index
    antiauth_sd: float = 0.95  # within-country SD of the latent antiauth index (before rounding)

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


#: The true parameter values used to simulate ``data/survey.csv``.
TRUE_PARAMETERS = TrueParameters()

#: Valid respondents per country (fixed by design, not drawn).
COUNTRY_SIZES: dict[str, int] = {
    "Benin": 1012,
    "Botswana": 986,
    "Burkina Faso": 874,
    "Cabo Verde": 803,
    "Cameroon": 1046,
    "Côte d'Ivoire": 958,
    "Eswatini": 702,
    "Gabon": 1011,
    "Gambia": 897,
    "Ghana": 2187,
    "Guinea": 932,
    "Kenya": 1403,
    "Lesotho": 761,
    "Liberia": 1045,
    "Madagascar": 612,
    "Malawi": 944,
    "Mali": 1008,
    "Mauritius": 537,
    "Morocco": 338,
    "Mozambique": 1641,
    "Namibia": 905,
    "Niger": 963,
    "Nigeria": 1452,
    "São Tomé and Príncipe": 318,
    "Senegal": 978,
    "Sierra Leone": 1087,
    "South Africa": 1574,
    "Tanzania": 2063,
    "Togo": 1019,
    "Tunisia": 476,
    "Uganda": 1091,
    "Zambia": 1004,
    "Zimbabwe": 1097,
}

#: Country-level trade with China, USD millions (invented round figures of a plausible size).
TRADE_CHINA: dict[str, float] = {
    "Benin": 1700.0,
    "Botswana": 310.0,
    "Burkina Faso": 360.0,
    "Cabo Verde": 62.0,
    "Cameroon": 2700.0,
    "Côte d'Ivoire": 2300.0,
    "Eswatini": 42.0,
    "Gabon": 3000.0,
    "Gambia": 450.0,
    "Ghana": 7500.0,
    "Guinea": 3500.0,
    "Kenya": 5400.0,
    "Lesotho": 105.0,
    "Liberia": 2100.0,
    "Madagascar": 1300.0,
    "Malawi": 280.0,
    "Mali": 520.0,
    "Mauritius": 850.0,
    "Morocco": 4500.0,
    "Mozambique": 2500.0,
    "Namibia": 720.0,
    "Niger": 300.0,
    "Nigeria": 15000.0,
    "São Tomé and Príncipe": 30.0,
    "Senegal": 2800.0,
    "Sierra Leone": 1500.0,
    "South Africa": 40000.0,
    "Tanzania": 4000.0,
    "Togo": 2400.0,
    "Tunisia": 1600.0,
    "Uganda": 800.0,
    "Zambia": 4500.0,
    "Zimbabwe": 1200.0,
}


@dataclass(frozen=True)
class NewCountry:
    """Design of a late-arriving country (a deliberate outlier, not a draw from the hierarchy)."""

    name: str
    n: int
    trade_china: float
    n_parties: int
    offset: float  # target mean of china minus the mean of china in survey.csv (rounded to 2 decimals)
    construction: str  # "rescale": sample mean = target and sample SD = sqrt(sigma_y^2 + sigma_party^2) exactly;
    # "shift": responses shifted so their sample mean equals target before the [1, 5] guard


#: Zudan: a handful of respondents, far below; Zudania: thousands, well above.
NEW_COUNTRIES: tuple[NewCountry, ...] = (
    NewCountry("Zudan", n=4, trade_china=35.0, n_parties=2, offset=-1.10, construction="rescale"),
    NewCountry("Zudania", n=3000, trade_china=12000.0, n_parties=4, offset=0.75, construction="shift"),
)

COLUMNS = ["respondent_id", "country_name", "party", "antiauth", "china", "trade_china"]
TRUTH_COLUMNS = ["country_name", "n", "trade_china", "log_trade_centered", "eta", "delta", "alpha", "beta"]
CHINA_RANGE = (1.0, 5.0)
ANTIAUTH_RANGE = (0.0, 4.0)


def _party_shares(rng: np.random.Generator, n_parties: int) -> np.ndarray:
    """Uneven party membership probabilities, largest first, none below ~2%."""
    raw = rng.dirichlet(np.full(n_parties, 1.5))
    shares = 0.88 * raw + 0.12 / n_parties
    return np.sort(shares)[::-1]


def _antiauth(rng: np.random.Generator, n: int, country_mean: float, p: TrueParameters) -> np.ndarray:
    """0-4 index in steps of 0.25 (the mean of four 0-4 items), from a rounded latent normal."""
    latent = rng.normal(country_mean, p.antiauth_sd, size=n)
    return np.clip(np.round(latent * 4.0) / 4.0, *ANTIAUTH_RANGE) + 0.0  # + 0.0 turns -0.0 into 0.0


def _parties(rng: np.random.Generator, n: int, n_parties: int) -> np.ndarray:
    """Party index (0 = largest party) of each of ``n`` respondents."""
    shares = _party_shares(rng, n_parties)
    idx = rng.choice(n_parties, size=n, p=shares)
    # guarantee every party has at least one member (only matters for tiny countries)
    for k in range(min(n_parties, n)):
        if not np.any(idx == k):
            idx[k] = k
    return idx


def simulate(seed: int = SEED, params: TrueParameters = TRUE_PARAMETERS) -> dict[str, pd.DataFrame]:
    """Simulate the survey.

    Returns a dict with DataFrames ``"survey"`` (33 countries), ``"new_countries"``
    (Zudan and Zudania only), ``"truth"`` (per-country true alpha_j, beta_j) and
    ``"party_truth"`` (true party effects u_k with their sizes), and ``"clipped"``, a
    table with the number of ``china`` values the [1, 5] guard changed in each file.
    """
    p = params
    rng = np.random.default_rng(seed)
    countries = list(COUNTRY_SIZES)
    log_trade = np.log(np.array([TRADE_CHINA[c] for c in countries]))
    log_trade_centered = log_trade - log_trade.mean()

    cov = np.array(
        [
            [p.tau_alpha**2, p.rho * p.tau_alpha * p.tau_beta],
            [p.rho * p.tau_alpha * p.tau_beta, p.tau_beta**2],
        ]
    )
    effects = rng.multivariate_normal([0.0, 0.0], cov, size=len(countries), method="cholesky")
    eta, delta = effects[:, 0], effects[:, 1]
    alpha = p.gamma_0 + p.gamma_1 * log_trade_centered + eta
    beta = p.beta + delta
    n_parties = rng.integers(3, 7, size=len(countries))
    aa_country_mean = rng.normal(p.antiauth_mean, p.antiauth_country_sd, size=len(countries))

    frames, party_rows = [], []
    clipped_survey = 0
    for j, country in enumerate(countries):
        n = COUNTRY_SIZES[country]
        aa = _antiauth(rng, n, aa_country_mean[j], p)
        party_idx = _parties(rng, n, int(n_parties[j]))
        u = rng.normal(0.0, p.sigma_party, size=int(n_parties[j]))
        e = rng.normal(0.0, p.sigma_y, size=n)
        mu = alpha[j] + beta[j] * (aa - p.antiauth_center) + u[party_idx]
        china_raw = np.round(mu + e, 2)
        china = np.clip(china_raw, *CHINA_RANGE)
        clipped_survey += int(np.sum(china != china_raw))
        party_names = np.array([f"{country}: Party {k + 1}" for k in range(int(n_parties[j]))])
        for k, name in enumerate(party_names):
            party_rows.append({"country_name": country, "party": name, "u": u[k], "n": int(np.sum(party_idx == k))})
        frames.append(
            pd.DataFrame(
                {
                    "country_name": country,
                    "party": party_names[party_idx],
                    "antiauth": aa,
                    "china": china,
                    "trade_china": TRADE_CHINA[country],
                }
            )
        )
    survey = pd.concat(frames, ignore_index=True)
    survey.insert(0, "respondent_id", np.arange(1, len(survey) + 1, dtype=np.int64))

    overall_mean = round(float(survey["china"].mean()), 2)
    new_frames = []
    clipped_new = 0
    for nc in NEW_COUNTRIES:
        target = round(overall_mean + nc.offset, 2)
        aa = _antiauth(rng, nc.n, p.antiauth_mean, p)
        party_idx = _parties(rng, nc.n, nc.n_parties)
        u = rng.normal(0.0, p.sigma_party, size=nc.n_parties)
        e = rng.normal(0.0, p.sigma_y, size=nc.n)
        mu = target + p.beta * (aa - p.antiauth_center) + u[party_idx]
        china_raw = mu + e
        if nc.construction == "rescale":
            sd = float(np.hypot(p.sigma_y, p.sigma_party))
            china_raw = target + sd * (china_raw - china_raw.mean()) / china_raw.std(ddof=1)
        elif nc.construction == "shift":
            china_raw = china_raw - china_raw.mean() + target
        else:
            raise ValueError(f"unknown construction {nc.construction!r}")
        china_raw = np.round(china_raw, 2)
        china = np.clip(china_raw, *CHINA_RANGE)
        clipped_new += int(np.sum(china != china_raw))
        if nc.construction == "rescale":
            china = _restore_mean(china, target)
        party_names = np.array([f"{nc.name}: Party {k + 1}" for k in range(nc.n_parties)])
        for k, name in enumerate(party_names):
            party_rows.append({"country_name": nc.name, "party": name, "u": u[k], "n": int(np.sum(party_idx == k))})
        new_frames.append(
            pd.DataFrame(
                {
                    "country_name": nc.name,
                    "party": party_names[party_idx],
                    "antiauth": aa,
                    "china": china,
                    "trade_china": nc.trade_china,
                }
            )
        )
    new = pd.concat(new_frames, ignore_index=True)
    new.insert(0, "respondent_id", np.arange(len(survey) + 1, len(survey) + len(new) + 1, dtype=np.int64))

    truth = pd.DataFrame(
        {
            "country_name": countries,
            "n": [COUNTRY_SIZES[c] for c in countries],
            "trade_china": [TRADE_CHINA[c] for c in countries],
            "log_trade_centered": log_trade_centered,
            "eta": eta,
            "delta": delta,
            "alpha": alpha,
            "beta": beta,
        }
    )
    party_truth = pd.DataFrame(party_rows, columns=["country_name", "party", "n", "u"])
    clipped = pd.DataFrame({"file": ["survey.csv", "survey_new_countries.csv"], "clipped": [clipped_survey, clipped_new]})
    return {"survey": survey, "new_countries": new, "truth": truth, "party_truth": party_truth, "clipped": clipped}


def _restore_mean(values: np.ndarray, target: float) -> np.ndarray:
    """Move the cents lost to rounding (or clipping) onto the values with room, so the mean is ``target``."""
    low, high = (int(round(b * 100)) for b in CHINA_RANGE)
    cents = np.round(values * 100).astype(np.int64)
    residual = int(round(target * 100)) * len(values) - int(cents.sum())
    while residual != 0:
        step = 1 if residual > 0 else -1
        room = (high - cents) if step > 0 else (cents - low)
        k = int(np.argmax(room))
        if room[k] <= 0:
            raise ValueError("target mean cannot be reached inside the 1-5 range")
        move = step * min(abs(residual), int(room[k]))
        cents[k] += move
        residual -= move
    return cents / 100.0


def _to_csv_bytes(df: pd.DataFrame, float_format: str) -> bytes:
    text = df.to_csv(index=False, lineterminator="\n", float_format=float_format)
    return text.encode("utf-8")


def render_files(seed: int = SEED) -> dict[str, bytes]:
    """The exact bytes of every file written by :func:`write_data`, keyed by file name."""
    sim = simulate(seed)
    return {
        "survey.csv": _to_csv_bytes(sim["survey"][COLUMNS], "%.2f"),
        "survey_new_countries.csv": _to_csv_bytes(sim["new_countries"][COLUMNS], "%.2f"),
        "survey_truth.csv": _to_csv_bytes(sim["truth"][TRUTH_COLUMNS], "%.6f"),
        "survey_party_truth.csv": _to_csv_bytes(sim["party_truth"], "%.6f"),
    }


def write_data(folder: str | Path, seed: int = SEED) -> list[Path]:
    """Write the simulated CSV files into ``folder`` (created if needed); return their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in render_files(seed).items():
        path = folder / name
        path.write_bytes(content)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m pooling.simulate FOLDER", file=sys.stderr)
        return 2
    for path in write_data(argv[0]):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
