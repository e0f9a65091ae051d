"""From the steps' figures to each classic's measured figures, and on to ratios beside the published ones.

Pure functions over plain dicts, so the tests feed them made-up numbers and
no process runs. Every comparison is a ratio (threads ÷ sequential, a
speedup per core, requests per second against 1 ÷ interval), because the
published machines are not ours; `agrees` is whether the measured ratio lies
within the row's tolerance of the published one, and None when nothing was
measured. Where today's Python is expected to differ from the published
figure (the new GIL of 3.2 against Beazley's old one), `expected` says what
the lab expects here and `as_expected` whether the measurement shows it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

COUNTDOWN_GIL_BAND = (0.85, 1.2)  # threads ÷ sequential on a GIL build of 3.2+: the threads take turns
COUNTDOWN_FREE_MAX = 1 / 1.6  # with the GIL off on 2+ cores: threads at least 1.6× faster
CONVOY_FACTOR = 2.0  # RPS beside one CPU thread within a factor of two of 1 ÷ interval
SUBINTERPRETER_FACTOR = 1.3  # subinterpreters within 1.3× of processes
RATIO_FACTOR = 1.25  # a ratio measured here agrees with the published within 25 %
COST_SLACK = 0.05  # the free-threaded cost agrees within 5 points of the published range


@dataclass(frozen=True)
class StepOutcome:
    """What one step of a classic measured: its figures (seconds per mode, RPS...), or why it has none."""

    classic: str
    key: str
    python: str
    status: str
    message: str | None
    figures: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StepOutcome:
        return cls(
            classic=str(data["classic"]),
            key=str(data["key"]),
            python=str(data["python"]),
            status=str(data["status"]),
            message=None if data.get("message") is None else str(data["message"]),
            figures=dict(data["figures"]),
        )


@dataclass(frozen=True)
class Comparison:
    """One published figure beside the measured one, as the same ratio."""

    what: str
    published: float | None
    measured: float | None
    agrees: bool | None
    expected: str | None = None  # what the lab expects here, where it differs from the published
    as_expected: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Comparison:
        def number(name: str) -> float | None:
            value = data.get(name)
            return None if value is None else float(value)

        def flag(name: str) -> bool | None:
            value = data.get(name)
            return None if value is None else bool(value)

        return cls(
            what=str(data["what"]),
            published=number("published"),
            measured=number("measured"),
            agrees=flag("agrees"),
            expected=None if data.get("expected") is None else str(data["expected"]),
            as_expected=flag("as_expected"),
        )


def within(measured: float | None, published: float | None, factor: float) -> bool | None:
    """Whether `measured` lies within a factor of `published` (None when either is missing)."""
    if measured is None or published is None or measured <= 0 or published <= 0:
        return None
    return published / factor <= measured <= published * factor


def ratio(top: float | None, bottom: float | None) -> float | None:
    if top is None or bottom is None or bottom <= 0:
        return None
    return top / bottom


# --- the steps' figures -> each classic's measured figures


def measured_for(classic: str, outcomes: Sequence[StepOutcome]) -> dict[str, Any]:
    """The classic's measured figures from its steps' (missing steps leave their figures out)."""
    steps = {(o.key, o.python): o.figures for o in outcomes if o.classic == classic}
    by_key = {o.key: o.figures for o in outcomes if o.classic == classic}
    if classic == "countdown":
        return {"pythons": countdown_rows(outcomes)}
    if classic == "convoy":
        alone, one = by_key.get("alone", {}), by_key.get("one", {})
        return {
            "alone_rps": rps(alone.get("mean_ms.0@5")),
            "alone_mean_ms": alone.get("mean_ms.0@5"),
            "one_thread_rps": {f"{i:g}": rps(one.get(f"mean_ms.1@{i:g}")) for i in (1.0, 5.0, 20.0)},
            "one_thread_mean_ms": {f"{i:g}": one.get(f"mean_ms.1@{i:g}") for i in (1.0, 5.0, 20.0)},
        }
    if classic == "stinner":
        found = by_key.get("modes", {})
        python = next((p for (k, p) in steps if k == "modes"), None)
        return {"python": python, "workers": found.get("workers.processes")} | {
            mode: found.get(f"seconds.{mode}") for mode in ("batch", "threads", "processes", "interpreters")
        }
    if classic == "sha256":
        seconds = {"1": by_key.get("2", {}).get("seconds.batch")}
        seconds |= {count: by_key.get(count, {}).get("seconds.threads") for count in ("2", "4", "8")}
        return {"seconds": seconds}
    if classic == "ccbench":
        pi, bz, latency = by_key.get("pidigits", {}), by_key.get("bz2", {}), by_key.get("latency", {})
        return {
            "pidigits_ratio": ratio(pi.get("seconds.batch"), pi.get("seconds.threads")),
            "bz2_ratio": ratio(bz.get("seconds.batch"), bz.get("seconds.threads")),
            "latency_p50_ms": latency.get("p50_ms.1@5"),
            "latency_mean_ms": latency.get("mean_ms.1@5"),
        }
    if classic == "free-threaded":
        empty: tuple[str | None, dict[str, Any]] = (None, {})
        gil = next(((p, f) for (k, p), f in steps.items() if k == "gil"), empty)
        free = next(((p, f) for (k, p), f in steps.items() if k == "free"), empty)
        return {
            "gil_build": gil[0],
            "free_build": free[0],
            "gil_batch_s": gil[1].get("seconds.batch"),
            "free_batch_s": free[1].get("seconds.batch"),
            "cost": cost_of(free[1].get("seconds.batch"), gil[1].get("seconds.batch")),
            "gil_threads_speedup": ratio(gil[1].get("seconds.batch"), gil[1].get("seconds.threads")),
            "free_threads_speedup": ratio(free[1].get("seconds.batch"), free[1].get("seconds.threads")),
            "free_gil_enabled": free[1].get("gil_enabled"),
            "gil_version": gil[1].get("version"),
            "free_version": free[1].get("version"),
        }
    if classic == "fastapi":
        web = by_key.get("web", {})
        return {
            "throughput": web.get("throughput"),
            "ceiling": web.get("ceiling"),
            "share": ratio(web.get("throughput"), web.get("ceiling")),
            "p50_ms": web.get("p50_ms"),
        }
    raise KeyError(classic)


def cost_of(free_s: float | None, gil_s: float | None) -> float | None:
    """The free-threaded build's single-thread cost: how much longer than the GIL build, as a share."""
    slower = ratio(free_s, gil_s)
    return None if slower is None else slower - 1


def rps(mean_ms: Any) -> float | None:
    """Requests per second of a closed loop of one client: 1 ÷ the mean round trip."""
    return 1000.0 / float(mean_ms) if mean_ms else None


def countdown_rows(outcomes: Sequence[StepOutcome]) -> list[dict[str, Any]]:
    """One row per interpreter: sequential, 2 and 4 threads, and the ratios threads ÷ sequential."""
    rows: dict[str, dict[str, Any]] = {}
    for outcome in outcomes:
        if outcome.classic != "countdown":
            continue
        row = rows.setdefault(outcome.python, {"python": outcome.python})
        figures = outcome.figures
        if "gil_enabled" in figures:
            row["gil_enabled"] = figures["gil_enabled"]
            row["free_threaded"] = figures.get("free_threaded")
        if outcome.key == "2":
            row["seq_s"] = figures.get("seconds.batch")
            row["threads2_s"] = figures.get("seconds.threads")
        else:
            row["threads4_s"] = figures.get("seconds.threads")
    for row in rows.values():
        row["threads2_ratio"] = ratio(row.get("threads2_s"), row.get("seq_s"))
        row["threads4_ratio"] = ratio(row.get("threads4_s"), row.get("seq_s"))
    return list(rows.values())


# --- each classic's measured figures -> the comparisons


def compare(
    classic: str, published: Mapping[str, float], measured: Mapping[str, Any], cores: float
) -> list[Comparison]:
    """The rows that set the published ratios beside the measured ones."""
    return {
        "countdown": compare_countdown,
        "convoy": compare_convoy,
        "stinner": compare_stinner,
        "sha256": compare_sha256,
        "ccbench": compare_ccbench,
        "free-threaded": compare_free_threaded,
        "fastapi": compare_fastapi,
    }[classic](published, measured, cores)


def countdown_expectation(row: Mapping[str, Any]) -> tuple[str, bool | None]:
    """What the lab expects of threads ÷ sequential on this build, and whether the row shows it."""
    value = row.get("threads2_ratio")
    if row.get("gil_enabled") is False:
        text = f"below {COUNTDOWN_FREE_MAX:.2f} (over 1.6× faster): the GIL is off"
        return text, None if value is None else value < COUNTDOWN_FREE_MAX
    low, high = COUNTDOWN_GIL_BAND
    text = f"{low}–{high}: the new GIL (3.2+) hands over every switch interval, the threads take turns"
    return text, None if value is None else low <= value <= high


def compare_countdown(
    published: Mapping[str, float], measured: Mapping[str, Any], cores: float
) -> list[Comparison]:
    p2009 = published["threads2_2009"] / published["seq_2009"]
    p2010 = published["threads2_2010"] / published["seq_2010"]
    p4 = published["threads4_2010"] / published["seq_2010"]
    rows = [
        Comparison(
            "2 threads ÷ sequential, one core (2009)",
            published["threads2_one_core_2009"] / published["seq_2009"],
            None,
            None,
            "not run here: the lab does not take cores away from a run",
        )
    ]
    for row in measured.get("pythons", []):
        expected, shown = countdown_expectation(row)
        python = row["python"]
        for what, value, pub in (
            (f"2 threads ÷ sequential, {python} (2009: dual-core)", row.get("threads2_ratio"), p2009),
            (f"2 threads ÷ sequential, {python} (2010: quad-core)", row.get("threads2_ratio"), p2010),
        ):
            rows.append(Comparison(what, pub, value, within(value, pub, RATIO_FACTOR), expected, shown))
        value4 = row.get("threads4_ratio")
        shown4 = countdown_expectation({**row, "threads2_ratio": value4})[1]
        rows.append(
            Comparison(
                f"4 threads ÷ sequential, {python} (2010)",
                p4,
                value4,
                within(value4, p4, RATIO_FACTOR),
                expected,
                shown4,
            )
        )
    return rows


def compare_convoy(
    published: Mapping[str, float], measured: Mapping[str, Any], cores: float
) -> list[Comparison]:
    one = measured.get("one_thread_rps", {})
    rows = []
    for interval in ("1", "5", "20"):
        law = 1000.0 / float(interval)
        value = one.get(interval)
        pub = published["rps_at_5ms"] if interval == "5" else law
        source = "published" if interval == "5" else "the published curve's law, 1 ÷ interval"
        rows.append(
            Comparison(
                f"RPS beside 1 CPU thread, {interval} ms switch interval ({source})",
                pub,
                value,
                within(value, pub, CONVOY_FACTOR),
                f"1 ÷ {interval} ms = {law:g} RPS, within a factor of {CONVOY_FACTOR:g}",
                within(value, law, CONVOY_FACTOR),
            )
        )
    alone = measured.get("alone_rps")
    pub_drop = published["alone_rps"] / published["one_thread_rps"]
    drop = ratio(alone, one.get("5"))
    rows.append(
        Comparison(
            "RPS alone ÷ RPS beside 1 CPU thread (5 ms)",
            pub_drop,
            drop,
            within(drop, pub_drop, CONVOY_FACTOR),
        )
    )
    rows.append(
        Comparison(
            "RPS with the CPU work in another process ÷ RPS alone",
            published["cpu_process_rps"] / published["alone_rps"],
            None,
            None,
            "not run here: the convoy lab has no mode with the CPU work in another process",
        )
    )
    return rows


def compare_stinner(
    published: Mapping[str, float], measured: Mapping[str, Any], cores: float
) -> list[Comparison]:
    pub_cores = published["cpus"]
    pub_threads = published["threads"] / published["batch"]
    pub_per_core = published["batch"] / published["processes"] / pub_cores
    pub_interp = published["interpreters"] / published["processes"]
    threads = ratio(measured.get("threads"), measured.get("batch"))
    used = min(4.0, cores, float(measured.get("workers") or cores))
    speedup = ratio(measured.get("batch"), measured.get("processes"))
    per_core = None if speedup is None else speedup / max(1.0, used)
    interp = ratio(measured.get("interpreters"), measured.get("processes"))
    return [
        Comparison("threads ÷ sequential", pub_threads, threads, within(threads, pub_threads, RATIO_FACTOR)),
        Comparison(
            "processes' speedup per core used",
            pub_per_core,
            per_core,
            within(per_core, pub_per_core, RATIO_FACTOR),
        ),
        Comparison(
            "subinterpreters ÷ processes",
            pub_interp,
            interp,
            within(interp, pub_interp, SUBINTERPRETER_FACTOR),
            f"within {SUBINTERPRETER_FACTOR}× of processes: each subinterpreter has its own GIL",
            None if interp is None else interp <= SUBINTERPRETER_FACTOR,
        ),
    ]


def compare_sha256(
    published: Mapping[str, float], measured: Mapping[str, Any], cores: float
) -> list[Comparison]:
    seconds = measured.get("seconds", {})
    rows = []
    for count in (2, 4, 8):
        pub = published["threads1"] / published[f"threads{count}"] / min(count, published["cores"])
        speedup = ratio(seconds.get("1"), seconds.get(str(count)))
        value = None if speedup is None else speedup / max(1.0, min(count, cores))
        rows.append(
            Comparison(
                f"speedup per core used, {count} threads", pub, value, within(value, pub, RATIO_FACTOR)
            )
        )
    return rows


def compare_ccbench(
    published: Mapping[str, float], measured: Mapping[str, Any], cores: float
) -> list[Comparison]:
    pi, bz = measured.get("pidigits_ratio"), measured.get("bz2_ratio")
    bz_pub = published["bz2_2_threads"]
    return [
        Comparison(
            "pidigits: 2 threads' throughput ÷ one thread's",
            published["pidigits_2_threads"],
            pi,
            within(pi, published["pidigits_2_threads"], RATIO_FACTOR),
        ),
        Comparison(
            "bz2: 2 threads' throughput ÷ one thread's",
            bz_pub,
            bz,
            within(bz, bz_pub, RATIO_FACTOR),
            "near min(2, cores)" if cores >= 2 else "near 1: one usable core",
            within(bz, min(2.0, max(1.0, cores)), RATIO_FACTOR),
        ),
    ]


def compare_free_threaded(
    published: Mapping[str, float], measured: Mapping[str, Any], cores: float
) -> list[Comparison]:
    cost = measured.get("cost")
    rows = []
    for key, label in (("pep703", "PEP 703"), ("howto313", "3.13 HOWTO"), ("whatsnew314", "3.14 What's New")):
        low, high = published[f"{key}_low"], published[f"{key}_high"]
        span = f"+{low:.0%}" if low == high else f"+{low:.0%}–{high:.0%}"
        agrees = None if cost is None else low - COST_SLACK <= cost <= high + COST_SLACK
        slower = None if cost is None else 1 + cost
        what = f"free-threaded ÷ GIL build, one thread, vs {label} ({span})"
        rows.append(Comparison(what, 1 + (low + high) / 2, slower, agrees))
    return rows


def compare_fastapi(
    published: Mapping[str, float], measured: Mapping[str, Any], cores: float
) -> list[Comparison]:
    share = measured.get("share")
    return [
        Comparison(
            f"def_wait throughput ÷ ({published['pool']:g} threads ÷ latency)",
            1.0,
            share,
            within(share, 1.0, RATIO_FACTOR),
        )
    ]
