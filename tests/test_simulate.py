"""The simulated survey: determinism and the structure promised in data/README.md."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pooling import simulate as sim
from pooling.data import load_new_countries, load_survey

DATA = Path(__file__).resolve().parents[1] / "data"
FILES = ["survey.csv", "survey_new_countries.csv", "survey_truth.csv", "survey_party_truth.csv"]


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    return load_survey()


@pytest.fixture(scope="module")
def new() -> pd.DataFrame:
    return load_new_countries()


def test_regenerates_committed_files_byte_for_byte(tmp_path):
    written = sim.write_data(tmp_path)
    assert sorted(p.name for p in written) == sorted(FILES)
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), f"{name} differs from data/{name}"


def test_command_line_entry_point(tmp_path, capsys):
    assert sim.main([str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "survey.csv").read_bytes() == (DATA / "survey.csv").read_bytes()
    assert sim.main([]) == 2


def test_files_use_unix_line_endings_and_utf8():
    for name in FILES:
        raw = (DATA / name).read_bytes()
        assert b"\r" not in raw
        raw.decode("utf-8")
    assert "São Tomé and Príncipe".encode() in (DATA / "survey.csv").read_bytes()


def test_other_seed_gives_other_data():
    assert not sim.simulate(seed=1)["survey"]["china"].equals(sim.simulate()["survey"]["china"])


def _documented_true_values() -> dict[str, float]:
    """The "true value" column of the table under "True parameter values" in data/README.md."""
    text = (DATA / "README.md").read_text(encoding="utf-8")
    section = text.split("### True parameter values", 1)[1].split("\n#", 1)[0]
    values = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith("`"):
            values[cells[0].strip("`")] = float(cells[2].replace("\u2212", "-"))
    return values


def test_true_parameters_are_documented_values():
    p = sim.TRUE_PARAMETERS
    documented = _documented_true_values()
    assert set(documented) == {"gamma_0", "gamma_1", "tau_alpha", "beta", "tau_beta", "rho", "sigma_party",
                               "sigma_y", "antiauth_center"}
    assert documented == pytest.approx({name: p.as_dict()[name] for name in documented})
    assert p.tau_alpha > 0 and p.tau_beta > 0 and p.sigma_party > 0 and p.sigma_y > 0
    assert -1 < p.rho < 1
    with pytest.raises(AttributeError):
        p.sigma_y = 1.0  # frozen


def test_countries_and_sizes(survey):
    sizes = survey["country_name"].value_counts()
    assert len(sizes) == 33
    assert {"Nigeria", "Tanzania", "Tunisia", "Zimbabwe"} <= set(sizes.index)
    assert "Sudan" not in sizes.index
    assert sizes.min() >= 300 and sizes.max() <= 2400
    assert 30_000 <= sizes.sum() <= 35_000
    assert sizes.to_dict() == sim.COUNTRY_SIZES
    assert survey["respondent_id"].tolist() == list(range(1, len(survey) + 1))


def test_values_in_range(survey, new):
    for df in (survey, new):
        assert df["antiauth"].between(0, 4).all()
        assert np.allclose(df["antiauth"] * 4, np.round(df["antiauth"] * 4))  # steps of 0.25
        assert df["china"].between(1, 5).all()
        assert np.allclose(df["china"] * 100, np.round(df["china"] * 100))  # two decimals
        assert (df["trade_china"] > 0).all()


def test_trade_constant_within_country_and_spread(survey, new):
    for df in (survey, new):
        assert df.groupby("country_name", observed=True)["trade_china"].nunique().eq(1).all()
    trade = survey.groupby("country_name", observed=True)["trade_china"].first()
    assert trade.min() <= 100 and trade.max() >= 10_000  # a few orders of magnitude
    assert trade.to_dict() == sim.TRADE_CHINA


def test_parties_nested_and_uneven(survey):
    per_country = survey.groupby("country_name", observed=True)["party"].nunique()
    assert per_country.between(3, 6).all()
    countries_per_party = survey.groupby("party", observed=True)["country_name"].nunique()
    assert countries_per_party.eq(1).all()
    ratios = []
    for country, group in survey.groupby("country_name", observed=True):
        assert all(str(p).startswith(f"{country}: Party ") for p in group["party"].unique())
        shares = group["party"].value_counts(normalize=True)
        shares = shares[shares > 0]
        assert shares.min() >= 0.015  # every party has members
        ratios.append(shares.max() / shares.min())
    assert np.median(ratios) > 2  # uneven membership


def test_new_countries(survey, new):
    sizes = new["country_name"].value_counts()
    assert set(sizes.index) == {"Zudan", "Zudania"}
    assert sizes["Zudan"] <= 10
    assert sizes["Zudania"] >= 2000
    overall = survey["china"].mean()
    means = new.groupby("country_name", observed=True)["china"].mean()
    zudan = next(c for c in sim.NEW_COUNTRIES if c.name == "Zudan")
    zudania = next(c for c in sim.NEW_COUNTRIES if c.name == "Zudania")
    # Zudan's sample mean is set exactly; Zudania's is close to its target
    assert means["Zudan"] == pytest.approx(round(overall, 2) + zudan.offset, abs=1e-9)
    assert means["Zudania"] == pytest.approx(round(overall, 2) + zudania.offset, abs=0.03)
    assert means["Zudan"] < overall - 0.9
    assert means["Zudania"] > overall + 0.6
    assert new["party"].str.split(":").str[0].eq(new["country_name"].astype(str)).all()
    assert new["respondent_id"].min() == survey["respondent_id"].max() + 1


def test_zudan_shrinks_about_halfway():
    """Closed-form weight n/s_y^2 / (n/s_y^2 + 1/s_a^2) with s_a from the 33 countries and from all 35."""
    both = load_survey(with_new_countries=True)
    x = both["antiauth"] - both.groupby("country_name", observed=True)["antiauth"].transform("mean")
    y = both["china"] - both.groupby("country_name", observed=True)["china"].transform("mean")
    slope = (x * y).sum() / (x**2).sum()
    groups = both["country_name"].nunique()
    s_y = np.sqrt(((y - slope * x) ** 2).sum() / (len(both) - groups - 1))
    intercepts = (both["china"] - slope * (both["antiauth"] - both["antiauth"].mean())).groupby(
        both["country_name"], observed=True
    ).mean()
    n = both["country_name"].value_counts()
    for s_a in (intercepts.drop(["Zudan", "Zudania"]).std(), intercepts.std()):
        w = {c: (n[c] / s_y**2) / (n[c] / s_y**2 + 1 / s_a**2) for c in ("Zudan", "Zudania")}
        assert 0.35 < w["Zudan"] < 0.65
        assert w["Zudania"] > 0.99


def test_moments_match_true_parameters(survey):
    p = sim.TRUE_PARAMETERS
    truth = pd.read_csv(DATA / "survey_truth.csv")
    # survey_truth.csv agrees with the model equations
    np.testing.assert_allclose(
        truth["alpha"], p.gamma_0 + p.gamma_1 * truth["log_trade_centered"] + truth["eta"], atol=2e-6
    )
    np.testing.assert_allclose(truth["beta"], p.beta + truth["delta"], atol=2e-6)
    log_trade = np.log(truth["trade_china"])
    np.testing.assert_allclose(truth["log_trade_centered"], log_trade - log_trade.mean(), atol=2e-6)

    # overall level and within-country noise
    assert survey["china"].mean() == pytest.approx(p.gamma_0, abs=0.15)
    centred = survey["antiauth"] - survey.groupby("country_name", observed=True)["antiauth"].transform("mean")
    y = survey["china"] - survey.groupby("country_name", observed=True)["china"].transform("mean")
    slope = (centred * y).sum() / (centred**2).sum()
    assert slope == pytest.approx(p.beta, abs=0.03)
    resid_sd = (y - slope * centred).std()
    assert resid_sd == pytest.approx(np.hypot(p.sigma_y, p.sigma_party), abs=0.03)

    # country means track the true intercepts; their spread reflects gamma_1 and tau_alpha
    means = survey.groupby("country_name", observed=True)["china"].mean()
    merged = truth.set_index("country_name").join(means.rename("mean"))
    assert np.corrcoef(merged["alpha"], merged["mean"])[0, 1] > 0.9
    sd_expected = np.sqrt(p.gamma_1**2 * log_trade.var() + p.tau_alpha**2)
    assert means.std() == pytest.approx(sd_expected, rel=0.5)

    # antiauth: mean about 2.5, SD about 0.9
    assert survey["antiauth"].mean() == pytest.approx(p.antiauth_mean, abs=0.15)
    assert survey["antiauth"].std() == pytest.approx(0.9, abs=0.15)


def test_party_truth_matches_survey(survey):
    parties = pd.read_csv(DATA / "survey_party_truth.csv")
    counts = survey["party"].value_counts()
    main = parties[parties["country_name"].isin(sim.COUNTRY_SIZES)]
    assert main.set_index("party")["n"].to_dict() == {k: int(v) for k, v in counts.items()}
    assert parties["u"].std() == pytest.approx(sim.TRUE_PARAMETERS.sigma_party, rel=0.5)


def test_almost_nothing_clipped():
    clipped = sim.simulate()["clipped"].set_index("file")["clipped"]
    assert clipped["survey.csv"] <= 0.001 * sum(sim.COUNTRY_SIZES.values())
    assert clipped["survey_new_countries.csv"] <= 0.03 * sum(c.n for c in sim.NEW_COUNTRIES)
