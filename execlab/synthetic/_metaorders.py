r"""Synthetic metaorders whose costs follow an impact model with known parameters.

For checking :func:`execlab.impact.fit_impact` against the truth it should
recover; never a substitute for real data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._validation import check_scalar

__all__ = ["metaorders"]


_POWER_KEYS = {"Y", "delta"}
_AC_KEYS = {"gamma", "eta"}


def _rng(rng: object) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(f"rng must be a numpy.random.Generator or an int seed, got {type(rng).__name__}.")


def metaorders(
    n: int,
    params: dict,
    rng: np.random.Generator | int,
    *,
    participation_median: float = 2e-3,
    participation_log_sd: float = 1.3,
    noise: float | None = None,
    noise_scaling: str = "constant",
) -> pd.DataFrame:
    r"""Parent orders whose costs follow an impact model with known parameters.

    Parameters
    ----------
    n : int
        Number of parent orders, >= 1.
    params : dict
        Either ``{"Y": ..., "delta": ...}`` (power law) or ``{"gamma": ...,
        "eta": ..., "beta": 0.6, "alpha": 1.0}`` (Almgren et al. 2005), each
        optionally with ``"noise"``: the standard deviation of the cost noise
        in units of sigma (default 0.3).
    rng : numpy.random.Generator or int
        Source of randomness (an int is a seed).
    participation_median, participation_log_sd : float
        Q/V is lognormal with this median and log standard deviation, clipped
        to [1e-5, 0.5]; the defaults put 95 % of orders between about 1.6e-4
        and 2.5e-2 of daily volume, the range of institutional metaorders.
    noise : float, optional
        Overrides ``params["noise"]``.
    noise_scaling : {"constant", "sqrt_duration"}, default "constant"
        ``"constant"``: the noise of :math:`C/\sigma` has standard deviation
        :math:`s`.  ``"sqrt_duration"``: :math:`s\sqrt{T}`, the diffusion of
        the price over the execution (heteroskedastic, as real shortfalls are;
        for checking the robust standard errors).

    Returns
    -------
    DataFrame
        The columns :func:`execlab.impact.fit_impact` reads: ``side``
        ("BUY"/"SELL"), ``quantity`` (shares, >= 1), ``arrival_price`` ($),
        ``avg_price`` ($), ``shortfall_bps`` (positive = cost),
        ``daily_volume`` (shares, lognormal around 2 million), ``sigma``
        (uniform 1-3 % daily), ``duration`` (sessions, log-uniform
        0.02-1), plus ``true_cost_bps`` (the noiseless expected cost).

    Notes
    -----
    With :math:`x = Q/V` (from the whole-share quantity) and :math:`z \sim N(0, 1)`,

    .. math::
        C/\sigma = Y x^{\delta} + s z \quad\text{or}\quad
        C/\sigma = \tfrac{\gamma}{2} x^{\alpha} + \eta\,(x/T)^{\beta} + s z,

    and the average price is :math:`S_0 (1 + \epsilon C)` with :math:`\epsilon`
    = +1 for a buy, -1 for a sell.  With ``noise_scaling="sqrt_duration"`` the noise term is
    :math:`s\sqrt{T}\,z`.

    Examples
    --------
    >>> df = metaorders(3, {"Y": 0.7, "delta": 0.5}, rng=0)
    >>> list(df.columns[:4])
    ['side', 'quantity', 'arrival_price', 'avg_price']
    """
    n = int(check_scalar(n, "n", min_val=1, integer=True))
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict, got {type(params).__name__}.")
    keys = set(params)
    if _POWER_KEYS <= keys:
        kind = "power"
        allowed = _POWER_KEYS | {"noise"}
    elif _AC_KEYS <= keys:
        kind = "almgren_chriss"
        allowed = _AC_KEYS | {"beta", "alpha", "noise"}
    else:
        raise ValueError(
            f"params has keys {sorted(keys)}; give {sorted(_POWER_KEYS)} (power law) or {sorted(_AC_KEYS)} (+ beta, alpha)."
        )
    extra = keys - allowed
    if extra:
        raise ValueError(f"params has unknown keys {sorted(extra)} for the {kind} model; allowed {sorted(allowed)}.")
    # Exponents must be > 0 (a cost falling with size is not impact); coefficients may be any real.
    positive = {"delta", "beta", "alpha"}
    p = {
        k: check_scalar(v, f"params[{k!r}]", min_val=0.0 if k in positive | {"noise"} else None,
                        include_min=k not in positive)
        for k, v in params.items()
    }
    s = check_scalar(noise if noise is not None else p.get("noise", 0.3), "noise", min_val=0.0)
    med = check_scalar(participation_median, "participation_median", min_val=0.0, max_val=0.5, include_min=False)
    lsd = check_scalar(participation_log_sd, "participation_log_sd", min_val=0.0)
    if noise_scaling not in ("constant", "sqrt_duration"):
        raise ValueError(f"noise_scaling == {noise_scaling!r}, must be one of ['constant', 'sqrt_duration'].")
    g = _rng(rng)

    V = np.round(2e6 * np.exp(0.8 * g.standard_normal(n)))
    V = np.maximum(V, 1e4)
    x = np.clip(med * np.exp(lsd * g.standard_normal(n)), 1e-5, 0.5)
    Q = np.maximum(np.round(x * V), 1.0)
    x = Q / V
    sigma = g.uniform(0.01, 0.03, n)
    T = np.exp(g.uniform(np.log(0.02), 0.0, n))
    S0 = np.round(50.0 * np.exp(0.8 * g.standard_normal(n)), 2)
    side = np.where(g.random(n) < 0.5, 1.0, -1.0)
    if kind == "power":
        f = p["Y"] * x ** p["delta"]
    else:
        f = 0.5 * p["gamma"] * x ** p.get("alpha", 1.0) + p["eta"] * (x / T) ** p.get("beta", 0.6)
    scale = s * np.sqrt(T) if noise_scaling == "sqrt_duration" else s
    cost = sigma * (f + scale * g.standard_normal(n))
    return pd.DataFrame(
        {
            "side": np.where(side > 0, "BUY", "SELL"),
            "quantity": Q.astype(np.int64),
            "arrival_price": S0,
            "avg_price": S0 * (1.0 + side * cost),
            "shortfall_bps": 1e4 * cost,
            "daily_volume": V,
            "sigma": sigma,
            "duration": T,
            "true_cost_bps": 1e4 * sigma * f,
        }
    )
