"""The sampler: marginals, correlation through factors, determinism and chunking.

Expectations come from theory (binomial standard errors, the bivariate normal and the
distributions in scipy.stats), never from earlier runs of the sampler.
"""

import math
import random

import numpy as np
import pytest
from scipy import stats
from scipy.special import ndtri

from arbiter.domain.scenario import Distribution, ScenarioSet, Selector, Shock, ShockKind
from arbiter.scenarios.sampling import CHUNK_SIZE, Samples, chunk_plan, sample, sample_all

N = 20_000
KS_999 = 1.95  # sqrt(n) * D exceeds this with probability ~0.1% (Kolmogorov distribution)

DEFAULT_MAGNITUDE = {
    ShockKind.SUPPLY_CUT: Distribution("uniform", (0.0, 1.0)),
    ShockKind.PRICE_SHIFT: Distribution("uniform", (1.0, 2.0)),
    ShockKind.SPOT_SURGE: Distribution("triangular", (1.0, 2.0, 4.0)),
    ShockKind.OUTAGE: Distribution.fixed(0.0),
    ShockKind.ROADMAP_SLIP: Distribution("uniform", (30.0, 120.0)),
    ShockKind.DEMAND_SHIFT: Distribution("triangular", (1.0, 1.3, 2.0)),
}


def shock(name, kind=ShockKind.PRICE_SHIFT, probability=0.2, magnitude=None, **kw):
    magnitude = magnitude or DEFAULT_MAGNITUDE[kind]
    if kind is ShockKind.ROADMAP_SLIP:
        kw.setdefault("duration_days", magnitude)
    else:
        kw.setdefault("duration_days", Distribution.fixed(7.0))
    return Shock(
        name=name,
        kind=kind,
        selector=Selector(),
        probability=probability,
        magnitude=magnitude,
        **kw,
    )


def reference(dist):
    """The scipy.stats frozen distribution equal to ``dist``."""
    p = dist.params
    if dist.kind == "uniform":
        return stats.uniform(loc=p[0], scale=p[1] - p[0])
    if dist.kind == "triangular":
        lo, mode, hi = p
        return stats.triang(c=(mode - lo) / (hi - lo), loc=lo, scale=hi - lo)
    if dist.kind == "lognormal":
        return stats.lognorm(s=p[1], scale=p[0])
    a, b, lo, hi = p
    return stats.beta(a, b, loc=lo, scale=hi - lo)


def factor_normals(scenarios, seed, n):
    """The factor draws of one chunk, by the documented draw order (factors come first)."""
    return np.random.default_rng(seed).standard_normal((len(scenarios.factors), n))


def one_chunk(scenarios, n=N, seed=7):
    """``n`` samples in one chunk, with the factor draws behind them."""
    seq = np.random.SeedSequence(seed)
    return sample(scenarios, n, seq), factor_normals(scenarios, np.random.SeedSequence(seed), n)


def corr(a, b):
    return float(np.corrcoef(np.asarray(a, float), np.asarray(b, float))[0, 1])


def theoretical_phi(p1, p2, r):
    """Correlation of 1{Z1 > t1} and 1{Z2 > t2}, t = Phi^-1(1 - p), for standard normals
    of correlation r."""
    t1, t2 = -ndtri(p1), -ndtri(p2)
    # P(Z1 > t1, Z2 > t2) = P(-Z1 < -t1, -Z2 < -t2), and (-Z1, -Z2) has correlation r too
    both = stats.multivariate_normal(mean=[0, 0], cov=[[1, r], [r, 1]]).cdf([-t1, -t2])
    return (both - p1 * p2) / math.sqrt(p1 * (1 - p1) * p2 * (1 - p2))


# --- shapes and marginals -----------------------------------------------------------------


def test_shapes_and_n():
    scen = ScenarioSet(shocks=(shock("a"), shock("b", ShockKind.OUTAGE)))
    got = sample(scen, 17, np.random.SeedSequence(3))
    for arr in (got.occurred, got.magnitude, got.start_days, got.duration_days):
        assert arr.shape == (2, 17)
    assert got.occurred.dtype == np.bool_ and got.magnitude.dtype == np.float64
    assert got.n == 17


@pytest.mark.parametrize("p", [0.01, 0.05, 0.15, 0.5, 0.9])
@pytest.mark.parametrize("loading", [0.0, 0.6, 0.95])
def test_marginal_occurrence_is_p_whatever_the_loading(p, loading):
    scen = ScenarioSet(
        shocks=(shock("a", probability=p, factor="f" if loading else None, loading=loading),),
        factors=("f",),
    )
    freq = sample_all(scen, N, seed=11).occurred[0].mean()
    se = math.sqrt(p * (1 - p) / N)
    assert abs(freq - p) < 4 * se, (freq, p, se)


def test_certain_shocks_always_occur():
    scen = ScenarioSet(shocks=(shock("a", probability=1.0),))
    assert sample_all(scen, 1000, seed=0).occurred.all()


MARGINALS = [
    (ShockKind.SUPPLY_CUT, Distribution("triangular", (0.3, 0.6, 0.9))),
    (ShockKind.SUPPLY_CUT, Distribution("beta", (2.0, 5.0, 0.0, 1.0))),
    (ShockKind.PRICE_SHIFT, Distribution("lognormal", (1.3, 0.2))),
    (ShockKind.SPOT_SURGE, Distribution("triangular", (1.5, 2.0, 4.0))),
    (ShockKind.DEMAND_SHIFT, Distribution("uniform", (1.0, 1.5))),
    (ShockKind.ROADMAP_SLIP, Distribution("triangular", (30.0, 60.0, 120.0))),
]


@pytest.mark.parametrize(("kind", "magnitude"), MARGINALS, ids=[str(m) for m in MARGINALS])
def test_magnitudes_follow_their_distribution(kind, magnitude):
    # The severity normal is standard whatever the loading, so the magnitude has exactly
    # its distribution (for a supply cut through 1 - u, which is uniform too).
    scen = ScenarioSet(
        shocks=(shock("a", kind, magnitude=magnitude, factor="f", loading=0.7),),
        factors=("f",),
    )
    got = sample_all(scen, N, seed=5).magnitude[0]
    ks = stats.kstest(got, reference(magnitude).cdf).statistic
    assert ks * math.sqrt(N) < KS_999
    se = reference(magnitude).std() / math.sqrt(N)
    assert abs(got.mean() - magnitude.mean) < 4 * se


def test_start_and_duration_follow_their_distributions():
    start = Distribution("uniform", (0.0, 60.0))
    duration = Distribution("lognormal", (30.0, 0.5))
    scen = ScenarioSet(shocks=(shock("a", start_days=start, duration_days=duration),))
    got = sample_all(scen, N, seed=8)
    for values, dist in ((got.start_days[0], start), (got.duration_days[0], duration)):
        assert stats.kstest(values, reference(dist).cdf).statistic * math.sqrt(N) < KS_999
    # start and duration come from independent uniforms
    assert abs(corr(got.start_days[0], got.duration_days[0])) < 4 / math.sqrt(N)


def test_fixed_windows_and_outage_magnitude():
    scen = ScenarioSet(
        shocks=(
            shock(
                "o",
                ShockKind.OUTAGE,
                start_days=Distribution.fixed(10.0),
                duration_days=Distribution.fixed(7.0),
            ),
        )
    )
    got = sample_all(scen, 600, seed=1)
    assert np.all(got.magnitude == 0.0)
    assert np.all(got.start_days == 10.0) and np.all(got.duration_days == 7.0)


def test_roadmap_slip_starts_at_zero_and_lasts_its_delay():
    scen = ScenarioSet(shocks=(shock("slip", ShockKind.ROADMAP_SLIP),))
    got = sample_all(scen, 2000, seed=2)
    assert np.all(got.start_days == 0.0)
    np.testing.assert_array_equal(got.duration_days, got.magnitude)
    assert got.magnitude.min() >= 30.0 and got.magnitude.max() <= 120.0


def test_demand_shift_without_duration_lasts_forever():
    scen = ScenarioSet(
        shocks=(shock("d", ShockKind.DEMAND_SHIFT, duration_days=Distribution.fixed(math.inf)),)
    )
    assert np.all(np.isinf(sample_all(scen, 300, seed=2).duration_days))


def test_lognormal_magnitudes_stay_finite_and_positive():
    # the severity uniform is kept inside (0, 1), so no sample is 0 or inf
    scen = ScenarioSet(
        shocks=(
            shock("p", magnitude=Distribution("lognormal", (1.0, 3.0)), factor="f", loading=1.0),
        ),
        factors=("f",),
    )
    got = sample_all(scen, N, seed=4).magnitude
    assert np.all(np.isfinite(got)) and np.all(got > 0)


# --- correlation through factors --------------------------------------------------------------


def test_shocks_sharing_a_factor_occur_together():
    p1, p2, rho = 0.2, 0.3, 0.9
    scen = ScenarioSet(
        shocks=(
            shock("a", probability=p1, factor="f", loading=rho),
            shock("b", probability=p2, factor="f", loading=rho),
            shock("c", probability=p1),
            shock("d", probability=p2),
        ),
        factors=("f",),
    )
    occ = sample_all(scen, N, seed=21).occurred
    expected = theoretical_phi(p1, p2, rho * rho)
    assert expected > 0.4  # the theory says "clearly positive" for these numbers
    # the sampling error of a correlation is below 1/sqrt(N); allow 4 of them
    assert abs(corr(occ[0], occ[1]) - expected) < 4 / math.sqrt(N)
    for i, j in ((2, 3), (0, 2), (1, 3), (0, 3)):
        assert abs(corr(occ[i], occ[j])) < 4 / math.sqrt(N), (i, j)
    # both at once: P(both) from the bivariate normal, within 4 binomial standard errors
    t1, t2 = -ndtri(p1), -ndtri(p2)
    r = rho * rho
    both = stats.multivariate_normal(mean=[0, 0], cov=[[1, r], [r, 1]]).cdf([-t1, -t2])
    freq = (occ[0] & occ[1]).mean()
    assert abs(freq - both) < 4 * math.sqrt(both * (1 - both) / N)


def test_loadings_on_different_factors_are_independent():
    scen = ScenarioSet(
        shocks=(
            shock("a", probability=0.3, factor="f", loading=0.9),
            shock("b", probability=0.3, factor="g", loading=0.9),
        ),
        factors=("f", "g"),
    )
    occ = sample_all(scen, N, seed=22).occurred
    assert abs(corr(occ[0], occ[1])) < 4 / math.sqrt(N)


def test_a_high_factor_makes_shocks_likelier():
    p, rho = 0.15, 0.8
    scen = ScenarioSet(shocks=(shock("a", probability=p, factor="f", loading=rho),), factors=("f",))
    got, factors = one_chunk(scen)
    f = factors[0]
    # P(occurs | F) = Phi((rho F - t) / sqrt(1 - rho^2)); the latent z is corr. rho with F
    assert corr(got.occurred[0], f) > 0.3
    high, low = f > 1.0, f < -1.0
    assert got.occurred[0][high].mean() > 2 * p > got.occurred[0][low].mean() * 4
    # exact conditional law, averaged over the draws of F in the top region
    t = -ndtri(p)
    want = stats.norm.cdf((rho * f[high] - t) / math.sqrt(1 - rho**2)).mean()
    n_high = int(high.sum())
    assert abs(got.occurred[0][high].mean() - want) < 4 * math.sqrt(want * (1 - want) / n_high)


def test_a_high_factor_makes_shocks_more_severe():
    rho = 0.8
    scen = ScenarioSet(
        shocks=(
            # uniform magnitudes invert exactly to the severity normal
            shock("cut", ShockKind.SUPPLY_CUT, factor="f", loading=rho),
            shock("price", ShockKind.PRICE_SHIFT, factor="f", loading=rho),
            shock("alone", ShockKind.PRICE_SHIFT),
        ),
        factors=("f",),
    )
    got, factors = one_chunk(scen)
    f = factors[0]
    cut, price, alone = got.magnitude
    z_cut = ndtri(1.0 - cut)  # capacity left = 1 - u on uniform [0, 1]
    z_price = ndtri(price - 1.0)  # price factor = 1 + u on uniform [1, 2]
    # z = rho F + sqrt(1 - rho^2) eps has correlation exactly rho with F
    tol = 4 / math.sqrt(N)
    assert abs(corr(z_cut, f) - rho) < tol
    assert abs(corr(z_price, f) - rho) < tol
    assert abs(corr(ndtri(alone - 1.0), f)) < tol
    # so capacity left falls and prices rise with the factor
    assert corr(cut, f) < -0.5 and corr(price, f) > 0.5
    # between the two shocks: Spearman correlation of a bivariate normal, (6/pi) asin(r/2)
    r = rho * rho
    spearman = stats.spearmanr(cut, price).statistic
    assert abs(spearman + 6 / math.pi * math.asin(r / 2)) < tol


@pytest.mark.parametrize("rho", [0.0, 0.6, 0.9])
def test_severity_depends_on_occurrence_only_through_the_factor(rho):
    # z_occ and z_sev share only rho F, so corr(z_occ, z_sev) = rho^2 and
    # E[z_sev | occurred] = rho^2 E[z_occ | z_occ > t] = rho^2 phi(t) / p
    p = 0.3
    scen = ScenarioSet(
        shocks=(shock("a", probability=p, factor="f" if rho else None, loading=rho),),
        factors=("f",),
    )
    got = sample_all(scen, N, seed=13)
    z_sev = ndtri(got.magnitude[0] - 1.0)  # uniform [1, 2] price factor
    occurred = got.occurred[0]
    t = -ndtri(p)
    want = rho**2 * stats.norm.pdf(t) / p
    se = 1 / math.sqrt(occurred.sum())  # the conditional variance is at most 1
    assert abs(z_sev[occurred].mean() - want) < 4 * se


def test_full_loading_ties_occurrence_to_the_factor():
    p = 0.25
    scen = ScenarioSet(shocks=(shock("a", probability=p, factor="f", loading=1.0),), factors=("f",))
    got, factors = one_chunk(scen, n=5000)
    np.testing.assert_array_equal(got.occurred[0], factors[0] > -ndtri(p))


def test_no_factors_and_zero_loading_factor_are_allowed():
    scen = ScenarioSet(shocks=(shock("a", factor="f", loading=0.0),), factors=("f",))
    assert sample_all(scen, 10, seed=0).n == 10
    scen = ScenarioSet(shocks=(shock("a"),))
    assert sample_all(scen, 10, seed=0).n == 10


# --- determinism and chunks -------------------------------------------------------------------

SCEN = ScenarioSet(
    shocks=(
        shock(
            "cut",
            ShockKind.SUPPLY_CUT,
            factor="f",
            loading=0.8,
            start_days=Distribution("uniform", (0.0, 60.0)),
        ),
        shock(
            "price", factor="f", loading=0.5, duration_days=Distribution("lognormal", (30.0, 0.5))
        ),
        shock("slip", ShockKind.ROADMAP_SLIP),
        shock("out", ShockKind.OUTAGE, probability=0.05),
    ),
    factors=("f", "unused"),
)


def assert_same(a: Samples, b: Samples):
    for name in ("occurred", "magnitude", "start_days", "duration_days"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def test_same_seed_same_samples_and_other_seeds_differ():
    assert_same(sample_all(SCEN, 1234, seed=9), sample_all(SCEN, 1234, seed=9))
    assert_same(
        sample(SCEN, 100, np.random.SeedSequence(4)), sample(SCEN, 100, np.random.SeedSequence(4))
    )
    a, b = sample_all(SCEN, 1234, seed=9), sample_all(SCEN, 1234, seed=10)
    assert not np.array_equal(a.magnitude, b.magnitude)


def test_chunk_plan_sizes_and_seeds():
    plan = chunk_plan(1001, seed=3)
    assert [size for size, _ in plan] == [CHUNK_SIZE] * 4 + [1001 - 4 * CHUNK_SIZE]
    assert [c.spawn_key for _, c in plan] == [(i,) for i in range(5)]
    assert all(c.entropy == 3 for _, c in plan)
    assert [size for size, _ in chunk_plan(2 * CHUNK_SIZE, seed=0)] == [CHUNK_SIZE] * 2
    assert [size for size, _ in chunk_plan(1, seed=0)] == [1]
    with pytest.raises(ValueError, match="> 0"):
        chunk_plan(0, seed=0)


def test_sample_all_equals_the_chunks_computed_in_any_order():
    n, seed = 1100, 42
    plan = list(enumerate(chunk_plan(n, seed)))
    random.Random(0).shuffle(plan)
    done = {i: sample(SCEN, size, child) for i, (size, child) in plan}
    assembled = Samples.concatenate([done[i] for i in sorted(done)])
    assert_same(sample_all(SCEN, n, seed), assembled)


def test_more_samples_extend_fewer():
    small, large = sample_all(SCEN, 300, seed=5), sample_all(SCEN, 1000, seed=5)
    # the first chunk is the same whatever n; the second is cut short in the smaller run
    np.testing.assert_array_equal(small.magnitude[:, :CHUNK_SIZE], large.magnitude[:, :CHUNK_SIZE])
    np.testing.assert_array_equal(small.occurred[:, :CHUNK_SIZE], large.occurred[:, :CHUNK_SIZE])


def test_samples_reject_mismatched_shapes():
    ok = np.zeros((2, 3))
    with pytest.raises(ValueError, match="shape"):
        Samples(
            occurred=np.zeros((2, 3), bool),
            magnitude=np.zeros((2, 4)),
            start_days=ok,
            duration_days=ok,
        )
    with pytest.raises(ValueError, match="2-D"):
        Samples(occurred=np.zeros(3, bool), magnitude=ok, start_days=ok, duration_days=ok)
    with pytest.raises(ValueError, match="nothing"):
        Samples.concatenate([])
