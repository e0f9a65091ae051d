"""GIL Lab: run a workload in batch, threads, processes and asyncio, and see what the GIL does.

The page composes; it does not compute. Controls become `RunSettings`, the
engine runs the experiment in its own process (`lab.runner.Experiment`), and
the figures, takeaway, history and CSV come from plain functions in `lab/`.
"""

from __future__ import annotations

import time
from dataclasses import replace

import streamlit as st

from lab import charts, history, share
from lab.errors import LabError, ResultsFormatError
from lab.hosting import Hosting, web_seconds
from lab.machine import Machine, current_machine
from lab.report import machine_lines
from lab.results import RunResult
from lab.runner import Experiment
from lab.server import EmbeddedServer
from lab.settings import MODES, START_METHODS, RunSettings
from lab.takeaway import EXPLAINER, takeaway
from lab.web import charts as web_charts
from lab.web import history as web_history
from lab.web.experiment import WebExperiment
from lab.web.results import WebResult
from lab.web.settings import ENDPOINTS, WebSettings
from lab.web.takeaway import takeaway as web_takeaway
from lab.workloads import WORKLOADS

POLL_SECONDS = 0.1
WORKLOAD_LABELS = {
    "squares": "squares — pure Python, holds the GIL",
    "sha256": "sha256 — C code, releases the GIL",
    "http": "http — downloads",
    "sleep": "sleep — plain waiting",
}
MODE_HELP = {
    "batch": "one task after another, in one thread",
    "threads": "one threading.Thread per task (or a pool, under Advanced)",
    "processes": "a process pool: one interpreter, and one GIL, per process",
    "asyncio": "coroutines on one event loop: awaits sleep or the async HTTP client",
    "asyncio_to_thread": "the blocking call in asyncio.to_thread, as FastAPI runs a plain def",
    "asyncio_blocking": "the blocking call straight inside async def: the classic mistake",
}


@st.cache_resource(show_spinner=False)
def machine() -> Machine:
    return current_machine()


@st.cache_resource(show_spinner=False)
def hosting() -> Hosting:
    """Public or private, and the limits: read once per server process."""
    return Hosting.from_env(machine().usable_cores)


def controls() -> share.Controls:
    """The controls' ranges; in public mode the process count stops at the host's cap."""
    base = share.Controls()
    if not hosting().public:
        return base
    cap = max(1, min(base.workers.high, hosting().limits.max_processes))
    return replace(base, workers=share.ControlRange(1, cap, min(base.workers.default, cap)))


@st.cache_resource(show_spinner=False)
def shared_latency_server() -> EmbeddedServer:
    """One embedded latency server per Streamlit server process, reused by every session."""
    return EmbeddedServer().start()


def latency_server() -> EmbeddedServer:
    server = shared_latency_server()
    if not server.alive:
        shared_latency_server.clear()
        server = shared_latency_server()
    return server


def init_session() -> None:
    """Session state: the history, the last run, and the settings a share link asked for."""
    if "history" in st.session_state:
        return
    st.session_state.history = []
    st.session_state.last_run_id = None
    st.session_state.upload_generation = 0
    cores = machine().parallel_slots
    params = st.query_params.to_dict()
    if params.get("lab") == "web":
        web, notices = share.read_web_link(params, share.WebControls())
        apply_page_settings(share.defaults_for("squares", cores))
        st.session_state.lab = share.WEB_LAB
    else:
        linked, notices = share.read_link(params, controls(), cores)
        apply_page_settings(linked)
        web = share.WebPageSettings()
    apply_web_settings(web)
    st.session_state.link_notices = notices


def apply_page_settings(settings: share.PageSettings) -> None:
    st.session_state.lab = settings.lab
    st.session_state.workload = settings.workload
    st.session_state.tasks = settings.tasks
    st.session_state[f"size_{settings.workload}"] = settings.size
    st.session_state.workers = settings.workers
    st.session_state.threads = settings.threads
    st.session_state.modes = list(settings.modes)
    st.session_state.url = settings.url
    st.session_state.latency_ms = settings.latency_ms
    st.session_state.repeats = settings.repeats
    st.session_state.start_method = settings.start_method or "default"


def apply_web_settings(settings: share.WebPageSettings) -> None:
    st.session_state.endpoints = list(settings.endpoints)
    st.session_state.clients = settings.clients
    st.session_state.web_requests = settings.requests
    st.session_state.duration = settings.duration
    st.session_state.web_latency_ms = settings.latency_ms
    st.session_state.web_size = settings.size
    st.session_state.threadpool = settings.threadpool
    st.session_state.server_workers = settings.server_workers


def on_workload_change() -> None:
    """A new workload brings its own sensible defaults (task count, size, modes)."""
    defaults = share.defaults_for(st.session_state.workload, machine().parallel_slots)
    st.session_state.tasks = defaults.tasks
    st.session_state.modes = list(defaults.modes)


def on_lab_change() -> None:
    if st.session_state.lab in share.LABS:
        st.session_state.workload = share.LABS[st.session_state.lab][0]
        on_workload_change()


def sidebar() -> share.PageSettings | share.WebPageSettings:
    """The controls; returns what they hold."""
    with st.sidebar:
        st.header("Experiment")
        st.radio("Lab", [*share.LABS, share.WEB_LAB], key="lab", horizontal=True, on_change=on_lab_change)
        page = web_controls() if st.session_state.lab == share.WEB_LAB else lab_controls()
        st.caption(hosting().describe())
    return page


def web_controls() -> share.WebPageSettings:
    """FastAPI's def vs async def: which endpoints, how many clients, how long, how big the pool."""
    ranges = share.WebControls()
    endpoints = st.multiselect(
        "Endpoints",
        list(ENDPOINTS),
        key="endpoints",
        help="\n".join(f"- **{name}**: {endpoint.summary}" for name, endpoint in ENDPOINTS.items()),
    )
    clients = st.slider("Clients", ranges.clients.low, ranges.clients.high, key="clients")
    requests = st.slider(
        "Requests",
        ranges.requests.low,
        ranges.requests.high,
        key="web_requests",
        help="Requests per endpoint; 0 runs each endpoint for the duration instead.",
    )
    duration = st.slider(
        "Duration (s)", ranges.duration.low, ranges.duration.high, key="duration", disabled=requests > 0
    )
    latency = st.slider("Latency (ms)", ranges.latency_ms.low, ranges.latency_ms.high, key="web_latency_ms")
    size = st.select_slider(
        "Workload size",
        options=share.SIZE_CHOICES["squares"],
        key="web_size",
        format_func=lambda value: f"{value:,}",
        help="Loop iterations of the CPU endpoints (def_cpu, async_cpu).",
    )
    threadpool = st.slider(
        "Thread pool",
        ranges.threadpool.low,
        ranges.threadpool.high,
        key="threadpool",
        help="Threads for plain def endpoints (AnyIO's default is 40).",
    )
    workers = st.slider(
        "Server processes", ranges.server_workers.low, ranges.server_workers.high, key="server_workers"
    )
    return share.WebPageSettings(
        endpoints=tuple(endpoints),
        clients=clients,
        requests=requests,
        duration=duration,
        latency_ms=latency,
        size=size,
        threadpool=threadpool,
        server_workers=workers,
    )


def lab_controls() -> share.PageSettings:
    """The CPU-bound and I/O-bound labs: a workload, its size, the modes to compare."""
    limits = controls()
    workload = st.radio(
        "Workload",
        share.LABS[st.session_state.lab],
        key="workload",
        on_change=on_workload_change,
        format_func=WORKLOAD_LABELS.__getitem__,
    )
    tasks = st.slider("Task count", limits.tasks.low, limits.tasks.high, key="tasks")
    size = 1
    if workload != "http":
        choices = share.SIZE_CHOICES[workload]
        size_key = f"size_{workload}"
        if st.session_state.get(size_key) not in choices:
            st.session_state[size_key] = share.nearest(choices, WORKLOADS[workload].default_size)
        size = st.select_slider(
            "Workload size",
            options=choices,
            key=size_key,
            format_func=lambda value: f"{value:,}",
            help=f"In {WORKLOADS[workload].unit}; the scale is logarithmic.",
        )
    workers = st.slider("Process count", limits.workers.low, limits.workers.high, key="workers")
    url = ""
    latency = st.session_state.latency_ms
    if workload == "http":
        url = st.text_input(
            "URL", key="url", placeholder="empty: the embedded latency server", max_chars=2048
        ).strip()
        latency = st.slider(
            "Latency (ms)",
            limits.latency_ms.low,
            limits.latency_ms.high,
            key="latency_ms",
            disabled=bool(url),
            help="How long the embedded server waits before it answers.",
        )
    modes = st.multiselect(
        "Modes", MODES, key="modes", help="\n".join(f"- **{m}**: {text}" for m, text in MODE_HELP.items())
    )
    repeats = st.slider("Repeats", limits.repeats.low, limits.repeats.high, key="repeats")
    with st.expander("Advanced"):
        threads = st.slider(
            "Thread count",
            limits.threads.low,
            limits.threads.high,
            key="threads",
            help="0 starts one thread per task; a number uses a pool of that many threads.",
        )
        start_method = st.selectbox("Start method", ["default", *START_METHODS], key="start_method")
    return share.PageSettings(
        workload=workload,
        tasks=tasks,
        size=size,
        workers=workers,
        threads=threads,
        modes=tuple(modes),
        url=url,
        latency_ms=latency,
        repeats=repeats,
        start_method="" if start_method == "default" else start_method,
    )


def run_settings(page: share.PageSettings) -> RunSettings:
    """What the engine will run: validated, then admitted (or refused) by this host's rules."""
    return hosting().admit(page.run_settings())


def run_experiment(settings: RunSettings) -> RunResult | None:
    """Run in the engine's process, redrawing progress every poll so Stop and reruns can end it.

    Streamlit stops a script only at its next `st.*` call: polling keeps one
    coming every 0.1 s, and `with Experiment` ends the process tree on every
    way out (done, Cancel, Stop, a rerun, a closed tab).
    """
    target = (
        latency_server().url(settings.latency_ms, settings.bytes) if settings.uses_embedded_server else None
    )
    host = hosting()
    status = st.status("Running the experiment…", expanded=True)
    with status:
        line = st.empty()
        bars = {mode: st.progress(0.0, text=f"{mode}: waiting") for mode in settings.modes}
        options = {"deadline_s": host.deadline_s, "queue": host.queue(), "public": host.public}
        with Experiment(settings, target_url=target, **options) as experiment:
            while not experiment.done:
                experiment.poll(POLL_SECONDS)
                if experiment.ahead:
                    line.info(f"Waiting for the host: {experiment.ahead} run(s) ahead of yours.")
                    continue
                line.empty()
                for row in experiment.progress():
                    label = f"{row.mode}: {row.done}/{row.total} tasks · {row.elapsed:.1f} s · {row.state}"
                    bars[row.mode].progress(row.done / row.total if row.total else 0.0, text=label)
            result = experiment.result()
    if result.status == "complete":
        status.update(label=f"Finished in {experiment.elapsed:.1f} s", state="complete", expanded=False)
    else:
        status.update(label=result.message or result.status, state="error", expanded=True)
    return result if result.runs else None


def run_web_experiment(settings: WebSettings) -> WebResult | None:
    """The web lab, polled like the other labs; it waits its turn on the host first."""
    status = st.status("Running the web-server lab…", expanded=True)
    with status:
        line = st.empty()
        bars = {name: st.progress(0.0, text=f"{name}: waiting") for name in settings.endpoints}
        with hosting().queue().join() as ticket:
            while (ahead := ticket.poll()) > 0:
                line.info(f"Waiting for the host: {ahead} run(s) ahead of yours.")
                time.sleep(POLL_SECONDS)
            line.empty()
            with WebExperiment(settings) as experiment:
                while not experiment.done:
                    experiment.poll(POLL_SECONDS)
                    for row in experiment.progress():
                        finished = row.state == "finished"
                        share_done = 1.0 if finished else min(1.0, row.elapsed / max(row.window_s, 1e-9))
                        label = (
                            f"{row.endpoint}: {row.requests:,} requests · {row.elapsed:.1f} s · {row.state}"
                        )
                        bars[row.endpoint].progress(share_done, text=label)
                result = experiment.result()
    if result.status == "complete":
        status.update(label="Finished", state="complete", expanded=False)
    else:
        status.update(label=result.message or result.status, state="error", expanded=True)
    return result if result.endpoints else None


def draw_web_result(result: WebResult) -> None:
    st.subheader("Results")
    summaries = result.summaries()
    for column, summary in zip(st.columns(len(summaries)), summaries, strict=True):
        ceiling = f"{summary.share_of_ceiling:.0%} of {summary.ceiling:,.0f}" if summary.ceiling else None
        column.metric(summary.endpoint, f"{summary.throughput:,.0f} req/s", ceiling, delta_color="off")
        if summary.p50_ms is not None:
            column.caption(f"p50 {summary.p50_ms:,.0f} ms · p99 {summary.p99_ms or 0:,.0f} ms")
        if summary.failed:
            column.error(f"{summary.failed} request(s) failed: {summary.failures or summary.error}")
    st.markdown("\n".join(f"- {sentence}" for sentence in web_takeaway(result)))
    left, right = st.columns(2)
    left.plotly_chart(web_charts.throughput_figure(result))
    right.plotly_chart(web_charts.latency_figure(result))
    ping = web_charts.ping_figure(result)
    left, right = st.columns(2)
    if ping is not None:
        left.plotly_chart(ping)
    right.plotly_chart(web_charts.latency_over_time_figure(result))


def draw_result(result: RunResult) -> None:
    st.subheader("Results")
    summaries = result.summaries()
    columns = st.columns(len(summaries))
    for column, summary in zip(columns, summaries, strict=True):
        speedup = f"{summary.speedup:.2f}× {result.baseline_mode}" if summary.speedup is not None else None
        column.metric(summary.mode, f"{summary.seconds:.3f} s", speedup, delta_color="off")
        column.caption(f"{summary.cores_busy:.2f} cores busy · {summary.workers} worker(s)")
        if summary.failed:
            column.error(f"{summary.failed} task(s) failed")
    st.markdown("\n".join(f"- {sentence}" for sentence in takeaway(result)))
    left, right = st.columns(2)
    left.plotly_chart(charts.time_chart(result))
    right.plotly_chart(charts.speedup_chart(result))
    left.plotly_chart(charts.cores_chart(result))
    with right:
        st.markdown(
            "**Cores busy** is CPU seconds ÷ wall seconds. Pure-Python threads stay near 1 "
            "whatever their number: the GIL lets one of them run at a time. Processes, and C code "
            "that releases the GIL, can reach the usable cores. Waiting keeps none busy."
        )
    if not history.is_imported(result):
        st.plotly_chart(charts.timeline_chart(result))
    failures = result.failures()
    if failures:
        st.error(f"{len(failures)} task(s) failed")
        st.dataframe(
            [
                {"mode": mode, "repeat": repeat + 1, "task": span.index, "reason": span.error}
                for mode, repeat, span in failures
            ],
            width="stretch",
        )


def draw_machine(info: Machine) -> None:
    with st.expander("Machine", expanded=False):
        st.code("\n".join(machine_lines(info)), language=None)
        if info.cpu_quota is not None or info.affinity_cores < info.logical_cores:
            st.caption(
                f"This process may use {info.usable_cores:g} of the {info.logical_cores} cores "
                "the OS reports: ideal lines and default process counts use that figure."
            )


def draw_history() -> None:
    st.subheader("History")
    runs = st.session_state.history
    lab_runs = [run for run in runs if not web_history.is_web_run(run)]
    web_runs = [run for run in runs if web_history.is_web_run(run)]
    if lab_runs:
        st.dataframe(history.history_table(lab_runs), width="stretch", hide_index=True)
        st.plotly_chart(charts.history_speedup_chart(history.modes_table(lab_runs)))
    if web_runs:
        st.markdown("**Web-server lab**")
        st.dataframe(web_history.web_history_table(web_runs), width="stretch", hide_index=True)
    if runs:
        run_ids = {run_label(number, run): run.run_id for number, run in enumerate(runs, start=1)}
        pick, remove, clear = st.columns([3, 1, 1], vertical_alignment="bottom")
        chosen = pick.selectbox("Run to remove", list(run_ids), key="remove_choice")
        if remove.button("Remove run", width="stretch"):
            st.session_state.history = history.remove_run(runs, run_ids[chosen])
            st.rerun()
        if clear.button("Clear all", width="stretch"):
            st.session_state.history = []
            st.rerun()
    else:
        st.caption("Every run of this browser session lands here. Nothing is shared with other visitors.")
    export, upload = st.columns(2, vertical_alignment="bottom")
    with export:
        st.download_button(
            "Download CSV",
            data=history.to_csv(lab_runs),
            file_name="gil-lab-history.csv",
            mime="text/csv",
            disabled=not lab_runs,
            width="stretch",
            help="The CPU-bound and I/O-bound runs: one row per run and mode.",
        )
        if web_runs:
            st.download_button(
                "Download web CSV",
                data=web_history.to_csv(web_runs),
                file_name="gil-lab-web-history.csv",
                mime="text/csv",
                width="stretch",
                help="The web-server runs: one row per run and endpoint (their columns differ).",
            )
    uploaded = upload.file_uploader(
        "Import CSV", type=["csv"], key=f"upload_{st.session_state.upload_generation}"
    )
    if uploaded is not None:
        import_history(uploaded.getvalue())


def run_label(number: int, run: object) -> str:
    if web_history.is_web_run(run):
        return f"#{number} web server"
    return history.run_label(number, run)


def import_history(data: bytes) -> None:
    """Add a CSV's runs (either lab's) to the history, all or nothing; a bad file changes nothing."""
    try:
        st.session_state.history, added = web_history.import_history_csv(st.session_state.history, data)
    except ResultsFormatError as exc:
        st.session_state.import_message = ("error", f"Nothing imported: {exc}")
    else:
        st.session_state.import_message = ("success", f"Imported {added} run(s) into the history.")
    st.session_state.upload_generation += 1
    st.rerun()


def show_import_message() -> None:
    message = st.session_state.pop("import_message", None)
    if message:
        kind, text = message
        (st.error if kind == "error" else st.success)(text)


def main() -> None:
    st.set_page_config(page_title="GIL Lab", page_icon="🔒", layout="wide")
    init_session()
    page = sidebar()
    web = isinstance(page, share.WebPageSettings)
    st.query_params.from_dict(share.web_link_params(page) if web else share.link_params(page))
    st.title("GIL Lab")
    st.caption(
        "Run the same work one task at a time, in threads, in processes and with asyncio, "
        "measured on this machine, and see what the GIL allows."
    )
    for notice in st.session_state.pop("link_notices", []):
        st.warning(notice)
    show_import_message()
    try:
        settings = hosting().admit_web(page.web_settings()) if web else run_settings(page)
    except LabError as exc:
        st.error(str(exc))
        settings = None
    run_col, cancel_col, note_col = st.columns([1, 1, 4], vertical_alignment="center")
    run_clicked = run_col.button("Run", type="primary", disabled=settings is None, width="stretch")
    cancel_slot = cancel_col.empty()
    if st.session_state.pop("cancelled", False):
        note_col.info("Run cancelled: its processes were ended.")
    elif settings is not None:
        note_col.caption(estimate_note(settings))
    if run_clicked and settings is not None:
        cancel_slot.button("Cancel", key="cancel", width="stretch", on_click=mark_cancelled)
        try:
            result = run_web_experiment(settings) if web else run_experiment(settings)
        except LabError as exc:
            st.error(str(exc))
            result = None
        cancel_slot.empty()
        if result is not None:
            st.session_state.history = history.add_runs(st.session_state.history, [result])
            st.session_state.last_run_id = result.run_id
    last = next((run for run in st.session_state.history if run.run_id == st.session_state.last_run_id), None)
    if last is not None:
        (draw_web_result if web_history.is_web_run(last) else draw_result)(last)
    draw_machine(last.machine if last is not None else machine())
    draw_history()
    with st.expander("What the lab shows", expanded=last is None):
        st.markdown(EXPLAINER)


def mark_cancelled() -> None:
    """Cancel's click reruns the page, which stops the running script and so ends its run."""
    st.session_state.cancelled = True


def estimate_note(settings: RunSettings | WebSettings) -> str:
    if isinstance(settings, WebSettings):
        return f"{settings.describe_load()}: about {web_seconds(settings):.0f} s"
    modes = ", ".join(settings.modes)
    seconds = hosting().estimate_seconds(settings)
    return (
        f"{settings.tasks} {settings.workload} tasks × {settings.repeats} repeat(s) in {modes}: "
        f"about {seconds:.0f} s on this machine"
    )


main()
