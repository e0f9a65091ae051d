"""Scaling models for a sweep over worker counts: fit a serial fraction, say how far more workers can go.

A sweep times one workload at several worker counts n (1, 2, 4, 8...) in one
mode. A ratio such as "threads were 1.1×" says little on its own; a model
fitted through all the counts says *why* and *how far*: "a serial fraction of
0.93: no thread count gets past 1.07× on this machine".

Standard library only, pure math, no I/O: the sweep, the CLI and the page all
call it, and it must run wherever the lab runs.

The machine's limit, p(n)
-------------------------
Workers beyond the usable cores only share them, so both models use the
effective parallelism

    p(n) = max(1, min(n, cores))

rather than n. `cores` may be fractional (a container quota of 1.5 CPUs gives
p(2) = 1.5). With fewer than one core (a 0.5 CPU quota) the one-worker run,
which is the baseline, already had all of it, and more workers only split it:
p(n) = 1 for every n, the speedup is 1× at any n, and the serial fraction
cannot be measured at all. `fit_strong`/`fit_weak` say so (quality "poor",
serial fraction None, max speedup 1). Worker counts below 1 mean nothing and
raise ValueError.

Strong scaling: Amdahl
----------------------
Fixed total work shared by n workers. A fraction s of the one-worker time
cannot run in parallel, the rest runs on p(n) cores:

    T(n) = T1 · (s + (1 − s) / p(n))        speedup S(n) = T1 / T(n) = 1 / (s + (1 − s) / p(n))

S rises with n until n reaches the cores and then stays flat, so the most it
can ever reach ("at any n") is, with P = max(1, cores),

    max_speedup = 1 / (s + (1 − s) / P)     reached from n = ceil(P) workers on

which is below both 1/s (Amdahl's ceiling with endless cores) and P.

Weak scaling: Gustafson
-----------------------
Fixed work *per worker*: n workers do n times the one-worker job. `fit_weak`
takes the same per-point seconds as `fit_strong` (median, min, max, one point
at n = 1) and compares n workers with one worker doing the n jobs back to back:

    scaled speedup Y(n) = n · T1 / T(n) = n · efficiency,    efficiency = T1 / T(n)

Gustafson's serial fraction s is the share of the n-worker run that did not
parallelise, and the model folds in the machine the same way as Amdahl:

    Y(n) = s + (1 − s) · p(n)               max_speedup = s + (1 − s) · P

"n workers do the work of s + (1 − s)·p(n) single workers". With s = 0 that is
exact (throughput stops growing at the core count); past the cores with s > 0
it is a convention, the simplest one that keeps Y between 1 and p(n).
s = 1 is a GIL-bound thread pool: n jobs take n times as long, Y = 1.
The two models' serial fractions mean different things and are not comparable.

The fit
-------
Both models predict each point's time as T(n) = τ · g_n(s), with g_1 = 1:
g_n = s + (1 − s)/p(n) for Amdahl, g_n = n / (s + (1 − s)·p(n)) for Gustafson.
The one-worker time τ is fitted too, not trusted: the n = 1 run is a
measurement with its own spread like every other, and dividing every point by
it would pass its error to all of them at once (a shared error that a
point-by-point weighting cannot see). Fitting τ beside s carries that shared
error into s's uncertainty correctly, with no special case for the base.

Each point's weight is 1/σ², σ being the uncertainty of its *median*, from
the spread of its k repeats. The range of k draws is about d(k) single-run σ,
with d(k) = 2·Φ⁻¹((k − 0.375)/(k + 0.25)) (Blom's expected largest of k
normals; 1.18 at k = 2, 2.36 at k = 5), and a median of k runs is about
sqrt(π/(2k)) single-run σ, so

    σ = (seconds_max − seconds_min) / d(k) · sqrt(π / (2k))

When the point does not say how many repeats it had, σ is the half-range
(seconds_max − seconds_min) / 2: the spread of one run, not of the median, so
the error comes out larger than it is (about 2× at k = 5), never smaller.
Either way σ is floored at SPREAD_FLOOR (1 %) of the median: a single repeat,
or repeats that happen to agree, would otherwise get infinite weight, and a
shared machine is rarely repeatable to better than 1 % anyway.
A point taken while the machine was not steady (lab.core.steadiness: its
speed changed, or other work took cores) has its σ multiplied by
UNSTEADY_SIGMA_SCALE (3, so a ninth of the weight): its spread understates
its error, because every repeat may have run on a slowed or shared core
alike. It stays in the fit, weighted down, rather than dropped: a sweep on a
busy laptop would otherwise have nothing left to fit.
We minimise the weighted sum of squares

    χ²(s, τ) = Σ ((T_i − τ · g_i(s)) / σ_i)²

For a given s the best τ is closed-form (χ² is quadratic in τ), so the search
is over s alone: a grid of 1001 values on [0, 1], then golden-section search in
the grid cell around the best value. The grid makes it robust (χ²(s) need not
have a single dip) and keeps s inside [0, 1] by construction; the golden
section makes it precise to ~1e-12.

The uncertainty
---------------
serial_fraction_err is the linearised (Gauss-Newton) standard error: with J
the Jacobian of the σ-scaled predictions with respect to (τ, s) at the optimum,
the covariance is (JᵀJ)⁻¹, i.e. the curvature of χ² there. That trusts the
spreads; when the points scatter about the curve more than their spreads say
(reduced chi-square χ²/(N − 2) above 1), the spreads understated the noise and
the error is multiplied by sqrt(χ²/(N − 2)) (the Birge ratio). It is never
shrunk when χ² is small: a range from a few repeats is a rough σ, and a
good-looking χ² from three points is often luck. With only two points there is
nothing left to check the spreads against and the unscaled error stands.
A bootstrap over 3–5 points would mostly resample the same few points and says
less. The tests check calibration: over many seeded noisy sweeps the true s
lies within ±1 error about two thirds of the time when the repeat count is
given, and more often when it is not. s ± err can cross 0 or 1;
max_speedup_low/high use s ± err clipped to [0, 1].

Quality
-------
A number from a model that does not fit is worse than none, so every fit says
"good", "rough" or "poor" and why, in one line. The worst finding wins:

* poor: no points, no one-worker run, only the one-worker run, at most one
  usable core; a (scaled) speedup that falls by FALL_POOR (20 %) or more from
  an earlier one, beyond both points' spreads (start-up or contention cost the
  model cannot describe: it never decreases); a point more than ABOVE_POOR
  (25 %) above what its usable cores allow; reduced chi-square above
  CHI2_POOR (10, the curve misses by ~3× the spread); error above ERR_POOR.
* rough: a fall of DIP_ROUGH (5 %) to 20 % (GIL threads: 1.0, 0.97, 0.95,
  0.93 — the fit says s ≈ 1, but the dip is overhead the model leaves out);
  a point 5–25 % above its cores; reduced chi-square above CHI2_ROUGH (3); only
  one worker count besides one (the curve passes through it exactly, nothing
  tests it); error above ERR_ROUGH.
* good otherwise.

A fall or a point above the cores also makes the curve miss the points; when
one is found it alone speaks for the miss, so GIL-bound threads dipping 7 %
read "rough: dips", not "poor: misses".

A poor fit still carries its numbers when they could be computed, so a chart
can draw the curve and show why it fails; read serial_fraction only when
quality is not "poor". It is None when it could not be computed at all.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from statistics import NormalDist
from typing import Any, Literal, cast

Model = Literal["amdahl", "gustafson"]
Quality = Literal["good", "rough", "poor"]
MODELS: tuple[Model, ...] = ("amdahl", "gustafson")
QUALITIES: tuple[Quality, ...] = ("good", "rough", "poor")

SPREAD_FLOOR = 0.01
UNSTEADY_SIGMA_SCALE = 3.0
"""A point's σ is at least this fraction of its median seconds."""
DIP_ROUGH = 0.05
FALL_POOR = 0.20
"""Falls of the (scaled) speedup, as a fraction of an earlier, higher point."""
ABOVE_ROUGH = 0.05
ABOVE_POOR = 0.25
"""How far a point may sit above its usable cores, as a fraction of them."""
CHI2_ROUGH = 3.0
CHI2_POOR = 10.0
"""Reduced chi-square: about 1 when the curve misses the points by their spread."""
ERR_ROUGH = 0.15
ERR_POOR = 0.35
"""Serial fraction errors too wide to say much."""

_GRID = 1000
_SEVERITY: dict[Quality, int] = {"good": 0, "rough": 1, "poor": 2}


def _check_cores(cores: float) -> float:
    if not (isinstance(cores, int | float) and math.isfinite(cores) and cores > 0):
        raise ValueError(f"usable cores must be a positive finite number, not {cores!r}")
    return float(cores)


def _check_fraction(serial_fraction: float) -> float:
    if not (math.isfinite(serial_fraction) and 0.0 <= serial_fraction <= 1.0):
        raise ValueError(f"a serial fraction lies in [0, 1], not {serial_fraction!r}")
    return float(serial_fraction)


def usable_parallelism(workers: float, cores: float) -> float:
    """p(n) = max(1, min(n, cores)): the parallelism n workers get, relative to one worker.

    Never below 1: the one-worker run is the baseline and already had whatever
    one worker can get, even a 0.5-core share.
    """
    if not (math.isfinite(workers) and workers >= 1):
        raise ValueError(f"worker counts start at 1, not {workers!r}")
    return max(1.0, min(float(workers), _check_cores(cores)))


def amdahl_speedup(serial_fraction: float, workers: float, cores: float) -> float:
    """Strong-scaling speedup S(n) = 1 / (s + (1 − s) / p(n)), capped by the cores through p(n)."""
    s = _check_fraction(serial_fraction)
    return 1.0 / (s + (1.0 - s) / usable_parallelism(workers, cores))


def gustafson_speedup(serial_fraction: float, workers: float, cores: float) -> float:
    """Weak-scaling (scaled) speedup Y(n) = s + (1 − s) · p(n) = n · T1 / T(n)."""
    s = _check_fraction(serial_fraction)
    return s + (1.0 - s) * usable_parallelism(workers, cores)


def model_speedup(model: Model, serial_fraction: float, workers: float, cores: float) -> float:
    """The model's speedup at n workers: Amdahl's for "amdahl", Gustafson's scaled one for "gustafson"."""
    if model == "amdahl":
        return amdahl_speedup(serial_fraction, workers, cores)
    if model == "gustafson":
        return gustafson_speedup(serial_fraction, workers, cores)
    raise ValueError(f"unknown scaling model {model!r}")


def max_speedup(model: Model, serial_fraction: float, cores: float) -> float:
    """The most the model allows at any worker count: its speedup at n = max(1, cores).

    p(n) stops growing at the cores and both models rise with p, so no worker
    count beats this: Amdahl 1 / (s + (1 − s)/P), Gustafson s + (1 − s)·P.
    """
    return model_speedup(model, serial_fraction, max(1.0, _check_cores(cores)), cores)


@dataclass(frozen=True)
class ScalingPoint:
    """One worker count of a sweep: the median, fastest and slowest seconds of its repeats.

    `repeats` is how many runs the three figures summarise; None when unknown,
    which makes the fit's error cautious (see `sigma`).
    """

    workers: int
    seconds: float
    seconds_min: float
    seconds_max: float
    repeats: int | None = None
    steady: bool | None = None  # whether the machine was steady while it ran; None: unknown

    def __post_init__(self) -> None:
        if isinstance(self.workers, bool) or not isinstance(self.workers, int) or self.workers < 1:
            raise ValueError(f"workers must be a whole number from 1, not {self.workers!r}")
        values = (self.seconds_min, self.seconds, self.seconds_max)
        if not all(math.isfinite(value) for value in values):
            raise ValueError(f"seconds must be finite: {values}")
        if not 0 < self.seconds_min <= self.seconds <= self.seconds_max:
            raise ValueError(f"need 0 < seconds_min <= seconds <= seconds_max, got {values}")
        if self.repeats is not None and (
            isinstance(self.repeats, bool) or not isinstance(self.repeats, int) or self.repeats < 1
        ):
            raise ValueError(f"repeats must be a whole number from 1, or None, not {self.repeats!r}")

    @property
    def sigma(self) -> float:
        """The uncertainty of the median seconds, at least SPREAD_FLOOR of it.

        From the range of k repeats: range / d(k) · sqrt(π/(2k)) (module
        docstring); the half-range when k is unknown; just the floor for one run.
        """
        spread = self.seconds_max - self.seconds_min
        if self.repeats is None:
            sigma = spread / 2
        elif self.repeats == 1:
            sigma = 0.0
        else:
            k = self.repeats
            expected_range = 2 * NormalDist().inv_cdf((k - 0.375) / (k + 0.25))
            sigma = spread / expected_range * math.sqrt(math.pi / (2 * k))
        sigma = max(sigma, SPREAD_FLOOR * self.seconds)
        return sigma * UNSTEADY_SIGMA_SCALE if self.steady is False else sigma

    def to_dict(self) -> dict[str, Any]:
        return {
            "workers": self.workers,
            "seconds": self.seconds,
            "seconds_min": self.seconds_min,
            "seconds_max": self.seconds_max,
            "repeats": self.repeats,
            "steady": self.steady,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScalingPoint:
        repeats, steady = data.get("repeats"), data.get("steady")
        return cls(
            workers=int(data["workers"]),
            seconds=float(data["seconds"]),
            seconds_min=float(data["seconds_min"]),
            seconds_max=float(data["seconds_max"]),
            repeats=None if repeats is None else int(repeats),
            steady=None if steady is None else bool(steady),
        )


@dataclass(frozen=True)
class SpeedupPoint:
    """A measured point as a chart draws it beside the fitted curve.

    speedup = T1 / T(n) for Amdahl, the scaled speedup n · T1 / T(n) for
    Gustafson, against the measured one-worker median T1. The bar runs from
    the point's slowest repeat (speedup_min = T1 / seconds_max, times n for
    Gustafson) to its fastest (speedup_max = T1 / seconds_min). The one-worker
    time's own spread is not in the bar (it would move every bar together); the
    fit accounts for it by fitting T1 itself.
    """

    workers: int
    speedup: float
    speedup_min: float
    speedup_max: float

    @property
    def efficiency(self) -> float:
        """Speedup per worker: S/n for Amdahl; for Gustafson Y/n = T1 / T(n), weak-scaling efficiency."""
        return self.speedup / self.workers

    def to_dict(self) -> dict[str, Any]:
        return {
            "workers": self.workers,
            "speedup": self.speedup,
            "speedup_min": self.speedup_min,
            "speedup_max": self.speedup_max,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SpeedupPoint:
        return cls(
            workers=int(data["workers"]),
            speedup=float(data["speedup"]),
            speedup_min=float(data["speedup_min"]),
            speedup_max=float(data["speedup_max"]),
        )


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True)
class Fit:
    """A fitted scaling model for one mode of a sweep, with how far to trust it.

    serial_fraction (± serial_fraction_err) is s; max_speedup is the most any
    worker count reaches under the model on these cores, first reached at
    max_speedup_at workers; max_speedup_low/high are the same at s ± err.
    reduced_chi_square is χ²/(N − 2), None with fewer than three points.
    quality and reason say whether to print the numbers at all (module docstring).
    """

    model: Model
    cores: float
    serial_fraction: float | None
    serial_fraction_err: float | None
    max_speedup: float | None
    max_speedup_low: float | None
    max_speedup_high: float | None
    max_speedup_at: int
    reduced_chi_square: float | None
    quality: Quality
    reason: str
    points: tuple[SpeedupPoint, ...] = ()

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise ValueError(f"unknown scaling model {self.model!r}")
        if self.quality not in QUALITIES:
            raise ValueError(f"unknown fit quality {self.quality!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "cores": self.cores,
            "serial_fraction": self.serial_fraction,
            "serial_fraction_err": self.serial_fraction_err,
            "max_speedup": self.max_speedup,
            "max_speedup_low": self.max_speedup_low,
            "max_speedup_high": self.max_speedup_high,
            "max_speedup_at": self.max_speedup_at,
            "reduced_chi_square": self.reduced_chi_square,
            "quality": self.quality,
            "reason": self.reason,
            "points": [point.to_dict() for point in self.points],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fit:
        return cls(
            model=cast(Model, str(data["model"])),
            cores=float(data["cores"]),
            serial_fraction=_optional_float(data["serial_fraction"]),
            serial_fraction_err=_optional_float(data["serial_fraction_err"]),
            max_speedup=_optional_float(data["max_speedup"]),
            max_speedup_low=_optional_float(data["max_speedup_low"]),
            max_speedup_high=_optional_float(data["max_speedup_high"]),
            max_speedup_at=int(data["max_speedup_at"]),
            reduced_chi_square=_optional_float(data["reduced_chi_square"]),
            quality=cast(Quality, str(data["quality"])),
            reason=str(data["reason"]),
            points=tuple(SpeedupPoint.from_dict(point) for point in data["points"]),
        )


def curve(fit: Fit, workers: Sequence[float]) -> list[float]:
    """The fitted model's (scaled) speedup at each worker count, for the dashed line: 1 at one worker.

    Raises ValueError when the fit has no serial fraction, unless the machine
    has at most one core, where the curve is 1 whatever s is.
    """
    if fit.serial_fraction is None:
        if fit.cores <= 1:
            return [model_speedup(fit.model, 1.0, n, fit.cores) for n in workers]
        raise ValueError(f"no fitted serial fraction to draw: {fit.reason}")
    return [model_speedup(fit.model, fit.serial_fraction, n, fit.cores) for n in workers]


def fit_strong(points: Sequence[ScalingPoint], cores: float) -> Fit:
    """Fit Amdahl's serial fraction to a strong-scaling sweep (fixed total work), one point per count."""
    return _fit("amdahl", points, cores)


def fit_weak(points: Sequence[ScalingPoint], cores: float) -> Fit:
    """Fit Gustafson's serial fraction to a weak-scaling sweep (fixed work per worker).

    Takes the seconds of each worker count, like `fit_strong`, one of them at
    n = 1; the scaled speedups n · T1 / T(n) are derived here.
    """
    return _fit("gustafson", points, cores)


# --- the fit ---------------------------------------------------------------------------------------------


def _shape(model: Model, s: float, workers: int, cores: float) -> float:
    """g_n(s): the model's n-worker time in units of the one-worker time."""
    p = usable_parallelism(workers, cores)
    if model == "amdahl":
        return s + (1.0 - s) / p
    return workers / (s + (1.0 - s) * p)


def _shape_slope(model: Model, s: float, workers: int, cores: float) -> float:
    """dg_n/ds, for the Jacobian."""
    p = usable_parallelism(workers, cores)
    if model == "amdahl":
        return 1.0 - 1.0 / p
    return workers * (p - 1.0) / (s + (1.0 - s) * p) ** 2


@dataclass(frozen=True)
class _Data:
    """The points' times and σs in units of the measured one-worker median (keeps sums well scaled)."""

    workers: tuple[int, ...]
    times: tuple[float, ...]
    sigmas: tuple[float, ...]


def _profile(model: Model, s: float, data: _Data, cores: float) -> tuple[float, float]:
    """(χ², τ) at s, with τ the closed-form best one-worker time for that s."""
    shapes = [_shape(model, s, n, cores) for n in data.workers]
    weights = [1.0 / sigma**2 for sigma in data.sigmas]
    tau = sum(w * t * g for w, t, g in zip(weights, data.times, shapes, strict=True)) / sum(
        w * g * g for w, g in zip(weights, shapes, strict=True)
    )
    chi2 = sum(w * (t - tau * g) ** 2 for w, t, g in zip(weights, data.times, shapes, strict=True))
    return chi2, tau


def _minimise(model: Model, data: _Data, cores: float) -> float:
    """The s in [0, 1] with the least χ²: a grid for robustness, then golden section in the best cell."""

    def chi2(s: float) -> float:
        return _profile(model, s, data, cores)[0]

    best = min(range(_GRID + 1), key=lambda k: chi2(k / _GRID))
    low, high = max(0.0, (best - 1) / _GRID), min(1.0, (best + 1) / _GRID)
    ratio = (math.sqrt(5) - 1) / 2
    a, b = low, high
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = chi2(c), chi2(d)
    while b - a > 1e-12:
        if fc <= fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = chi2(c)
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = chi2(d)
    candidates = (low, high, best / _GRID, (a + b) / 2)
    return min(candidates, key=chi2)


def _error(model: Model, s: float, tau: float, data: _Data, cores: float) -> float:
    """Gauss-Newton standard error of s from the spreads alone: sqrt of (JᵀJ)⁻¹'s (s, s) entry."""
    a = b = c = 0.0
    for n, sigma in zip(data.workers, data.sigmas, strict=True):
        d_tau = _shape(model, s, n, cores) / sigma
        d_s = tau * _shape_slope(model, s, n, cores) / sigma
        a += d_tau * d_tau
        b += d_tau * d_s
        c += d_s * d_s
    det = a * c - b * b
    if not det > 0:
        return math.inf
    return math.sqrt(a / det)


def _speedup_points(model: Model, points: Sequence[ScalingPoint], base: float) -> tuple[SpeedupPoint, ...]:
    def scale(point: ScalingPoint) -> float:
        return base * (point.workers if model == "gustafson" else 1)

    return tuple(
        SpeedupPoint(
            workers=point.workers,
            speedup=scale(point) / point.seconds,
            speedup_min=scale(point) / point.seconds_max,
            speedup_max=scale(point) / point.seconds_min,
        )
        for point in points
    )


def _ceiling_at(s: float, cores: float) -> int:
    return 1 if cores <= 1 or s >= 1 else math.ceil(cores)


def _fit(model: Model, points: Sequence[ScalingPoint], cores: float) -> Fit:
    cores = _check_cores(cores)
    ordered = sorted(points, key=lambda point: point.workers)
    counts = [point.workers for point in ordered]
    repeated = sorted({n for n in counts if counts.count(n) > 1})
    if repeated:
        raise ValueError(f"one point per worker count, but {repeated} appear more than once")

    def unfitted(reason: str, shown: tuple[SpeedupPoint, ...] = ()) -> Fit:
        return Fit(model, cores, None, None, None, None, None, 1, None, "poor", reason, shown)

    if not ordered:
        return unfitted("no points to fit")
    if ordered[0].workers != 1:
        return unfitted(
            "no one-worker run: speedup is measured against the one-worker time, and there is none"
        )
    base = ordered[0]
    shown = _speedup_points(model, ordered, base.seconds)
    if len(ordered) == 1:
        return unfitted("only the one-worker run: add at least one more worker count to fit", shown)
    if cores <= 1:
        reason = (
            f"at most one usable core ({cores:g}): no worker count runs in parallel, so the speedup "
            "stays 1× and the serial fraction cannot be measured"
        )
        return replace(unfitted(reason, shown), max_speedup=1.0, max_speedup_low=1.0, max_speedup_high=1.0)

    data = _Data(
        workers=tuple(counts),
        times=tuple(point.seconds / base.seconds for point in ordered),
        sigmas=tuple(point.sigma / base.seconds for point in ordered),
    )
    s = _minimise(model, data, cores)
    chi2, tau = _profile(model, s, data, cores)
    dof = len(ordered) - 2
    reduced = chi2 / dof if dof > 0 else None
    err = _error(model, s, tau, data, cores) * math.sqrt(max(1.0, reduced or 0.0))
    low_s, high_s = min(1.0, s + err), max(0.0, s - err)
    quality, reason = _judge(model, shown, cores, reduced, err)
    return Fit(
        model=model,
        cores=cores,
        serial_fraction=s,
        serial_fraction_err=err,
        max_speedup=max_speedup(model, s, cores),
        max_speedup_low=max_speedup(model, low_s, cores),
        max_speedup_high=max_speedup(model, high_s, cores),
        max_speedup_at=_ceiling_at(s, cores),
        reduced_chi_square=reduced,
        quality=quality,
        reason=reason,
        points=shown,
    )


# --- quality ---------------------------------------------------------------------------------------------


def _judge(
    model: Model, shown: tuple[SpeedupPoint, ...], cores: float, reduced: float | None, err: float
) -> tuple[Quality, str]:
    """The worst finding and its one-line reason; earlier checks win ties (they explain more).

    A fall or a point above the cores is a shape the model cannot follow, so
    it also makes the curve miss: then it alone speaks for the miss (a 7 % dip
    of GIL-bound threads with 1 % spreads is "rough", not "poor" twice over).
    """
    word = "speedup" if model == "amdahl" else "scaled speedup"
    shape = [_falls(shown, word), _above_cores(shown, cores, word)]
    misses = None if any(shape) else _misses(reduced)
    findings = [*shape, misses, _too_few(shown), _loose(err)]
    found = [finding for finding in findings if finding is not None]
    if not found:
        return "good", f"the curve follows the points within their spread ({len(shown)} worker counts)"
    return max(found, key=lambda finding: _SEVERITY[finding[0]])


def _falls(shown: tuple[SpeedupPoint, ...], word: str) -> tuple[Quality, str] | None:
    """The largest fall from an earlier, higher point, when the two points' spreads do not overlap."""
    worst: tuple[float, SpeedupPoint, SpeedupPoint] | None = None
    for index, later in enumerate(shown[1:], start=1):
        peak = max(shown[:index], key=lambda point: point.speedup)
        if later.speedup_max < peak.speedup_min:
            drop = 1 - later.speedup / peak.speedup
            if worst is None or drop > worst[0]:
                worst = (drop, peak, later)
    if worst is None or worst[0] < DIP_ROUGH:
        return None
    drop, peak, later = worst
    at = f"{later.speedup:.2f}× at {later.workers} workers"
    if drop < FALL_POOR:
        return "rough", (
            f"{word} dips as workers are added ({at}): some overhead the model leaves out; "
            "read the serial fraction as approximate"
        )
    if peak.workers == 1:
        return "poor", (
            f"{word} falls as workers are added ({at}): start-up and coordination cost dominate this work; "
            "the serial fraction says nothing here"
        )
    return "poor", (
        f"{word} falls after {peak.workers} workers ({peak.speedup:.2f}× → {at}): overhead grows with "
        "workers, which the model leaves out; the serial fraction says nothing here"
    )


def _above_cores(shown: tuple[SpeedupPoint, ...], cores: float, word: str) -> tuple[Quality, str] | None:
    """The point furthest above p(n), when even its slowest repeat is above it."""
    over = [
        (point.speedup / usable_parallelism(point.workers, cores) - 1, point)
        for point in shown
        if point.speedup_min > usable_parallelism(point.workers, cores)
    ]
    if not over:
        return None
    excess, point = max(over, key=lambda item: item[0])
    if excess < ABOVE_ROUGH:
        return None
    limit = usable_parallelism(point.workers, cores)
    reason = (
        f"{point.workers} workers reached {point.speedup:.2f}× {word}, above what {limit:g} usable cores "
        "allow: the core count is wrong or each worker's share got cheaper (caches); "
        "the model cannot go past the cores"
    )
    return ("poor" if excess >= ABOVE_POOR else "rough"), reason


def _misses(reduced: float | None) -> tuple[Quality, str] | None:
    if reduced is None or reduced <= CHI2_ROUGH:
        return None
    miss = f"the curve misses the points by about {math.sqrt(reduced):.1f}× their spread"
    if reduced > CHI2_POOR:
        return "poor", f"{miss}: the model does not describe this sweep"
    return "rough", f"{miss}: read the serial fraction as approximate"


def _too_few(shown: tuple[SpeedupPoint, ...]) -> tuple[Quality, str] | None:
    if len(shown) > 2:
        return None
    return "rough", (
        f"only one worker count besides one ({shown[-1].workers}): the curve passes through it, "
        "so nothing tests the model"
    )


def _loose(err: float) -> tuple[Quality, str] | None:
    if err <= ERR_ROUGH:
        return None
    return ("poor" if err > ERR_POOR else "rough"), (
        f"the points are too noisy to pin the serial fraction down (±{err:.2f})"
    )
