"""Share links: each lab's form in the URL query string, read back safely.

A link is input like any other: whatever it holds, reading it never raises.
Unknown keys are ignored, out-of-range numbers are clamped to the control's
range, sizes snap to the nearest offered size, names outside their list are
dropped, and each change is reported as a one-line notice. Names follow the
CLI (`workload`, `tasks`, `size`, ...). An interpreter is chosen by name from
the discovered list, never by path; a person's code travels only when short
(compressed, URL-safe) and never into public mode.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from lab.app.form import (
    DEFAULT_FUNCTION,
    SWITCH_INTERVALS_MS,
    ControlRange,
    Controls,
    RunForm,
    WebControls,
    WebForm,
    defaults_for,
    nearest,
)
from lab.core.errors import InvalidSettings
from lab.core.interpreters import GIL_SETTINGS
from lab.core.urlguard import check_url
from lab.engine.settings import MODES, START_METHODS, check_args
from lab.engine.workloads import WORKLOADS
from lab.web.settings import ENDPOINTS

MAX_CODE_LINK_CHARS = 2048  # the encoded code a link may carry
MAX_CODE_CHARS = 64 * 1024  # what a decoded link may expand to: no zip bombs through the URL
FUNCTION_NAME_CHARS = 100


@dataclass
class LinkReader:
    """Reads one link, collecting a notice for everything it had to change."""

    params: Mapping[str, Any]
    notices: list[str] = field(default_factory=list)

    def text(self, name: str) -> str | None:
        value = self.params.get(name)
        if isinstance(value, list):
            value = value[-1] if value else None
        return None if value is None else str(value)[:4096]

    def number(self, name: str, bounds: ControlRange, default: int) -> int:
        raw = self.text(name)
        if raw is None:
            return default
        try:
            value = int(raw.strip().replace("_", "").replace(",", ""))
        except ValueError:
            self.notices.append(f"ignored {name}={raw[:40]!r} from the link: not a whole number")
            return default
        clamped = min(bounds.high, max(bounds.low, value))
        if clamped != value:
            self.notices.append(f"{name}={value:,} from the link is out of range; using {clamped:,}")
        return clamped

    def names(
        self, name: str, known: Collection[str], default: tuple[str, ...], what: str
    ) -> tuple[str, ...]:
        """A comma-separated list of known names, in order, once each; unknown ones dropped with a notice."""
        raw = self.text(name)
        if raw is None:
            return default
        parts = [part.strip() for part in raw.split(",") if part.strip()]
        unknown = [part for part in parts if part not in known]
        if unknown:
            shown = ", ".join(part[:20] for part in unknown[:5])
            self.notices.append(f"ignored unknown {what}(s) from the link: {shown}")
        return tuple(dict.fromkeys(part for part in parts if part in known)) or default

    def choice(self, name: str, known: Collection[str], default: str) -> str:
        raw = self.text(name)
        if raw is None or raw == "":
            return default
        if raw not in known:
            self.notices.append(f"ignored {name}={raw[:20]!r} from the link")
            return default
        return raw

    def flag(self, name: str) -> bool:
        raw = self.text(name)
        if raw is None:
            return False
        if raw not in ("0", "1"):
            self.notices.append(f"ignored {name}={raw[:20]!r} from the link: not 0 or 1")
            return False
        return raw == "1"

    def size(self, choices: tuple[int, ...], default: int) -> int:
        if self.text("size") is None:
            return default
        wanted = self.number("size", ControlRange(choices[0], choices[-1], default), default)
        snapped = nearest(choices, wanted)
        if snapped != wanted:
            self.notices.append(
                f"size={wanted:,} from the link is not offered; using the nearest, {snapped:,}"
            )
        return snapped


def read_link(
    params: Mapping[str, Any],
    controls: Controls,
    cores_default: int,
    *,
    pythons: Collection[str] = (),
    allow_code: bool = True,
) -> tuple[RunForm, list[str]]:
    """Settings from a share link's query parameters, and notices for what was changed.

    `pythons` are the interpreter names this page may offer; `allow_code` is
    False in public mode, where a link's code is ignored (with a notice).
    """
    reader = LinkReader(params)
    workload = reader.text("workload") or "squares"
    if workload not in WORKLOADS:
        reader.notices.append(f"ignored workload={workload[:40]!r} from the link: unknown workload")
        workload = "squares"
    if WORKLOADS[workload].private_only and not allow_code:
        reader.notices.append("ignored the link's function: this host does not run visitors' code")
        workload = "squares"
    base = defaults_for(workload, cores_default)
    info = WORKLOADS[workload]
    size = reader.size(info.size_choices, base.size) if info.uses_size else base.size
    url = ""
    raw_url = reader.text("url")
    if raw_url:
        try:
            url = check_url(raw_url)
        except InvalidSettings as exc:
            reader.notices.append(f"ignored the link's url: {exc}")
    code, function, args = (
        read_code(reader) if WORKLOADS[workload].code_in_links else ("", DEFAULT_FUNCTION, "[]")
    )
    settings = RunForm(
        workload=workload,
        tasks=reader.number("tasks", controls.tasks, base.tasks),
        size=size,
        workers=reader.number("workers", controls.workers, base.workers),
        threads=reader.number("threads", controls.threads, base.threads),
        modes=reader.names("modes", MODES, base.modes, "mode"),
        url=url,
        latency_ms=reader.number("latency_ms", controls.latency_ms, base.latency_ms),
        repeats=reader.number("repeats", controls.repeats, base.repeats),
        start_method=reader.choice("start_method", START_METHODS, ""),
        python=read_python(reader, pythons),
        gil=reader.choice("gil", GIL_SETTINGS, ""),
        xray=reader.flag("xray"),
        switch_interval_ms=read_switch_interval(reader),
        code=code,
        function=function,
        args=args,
    )
    return settings, reader.notices


def read_python(reader: LinkReader, pythons: Collection[str]) -> str:
    """An interpreter by name from the list; a path (or any unknown name) is refused with a notice."""
    raw = reader.text("python")
    if not raw:
        return ""
    if "/" in raw or "\\" in raw:
        reader.notices.append(
            "ignored the link's python: a link chooses an interpreter by name, never by path"
        )
        return ""
    if raw not in pythons:
        reader.notices.append(f"ignored python={raw[:20]!r} from the link: no such interpreter here")
        return ""
    return raw


def read_switch_interval(reader: LinkReader) -> float:
    raw = reader.text("switch_interval_ms")
    if raw is None:
        return 0.0
    try:
        wanted = float(raw)
    except ValueError:
        wanted = -1.0
    if wanted not in SWITCH_INTERVALS_MS:
        reader.notices.append(f"ignored switch_interval_ms={raw[:20]!r} from the link: not an offered value")
        return 0.0
    return wanted


def encode_code(code: str) -> str | None:
    """The code compressed and URL-safe, or None when even that is too long for a link."""
    packed = base64.urlsafe_b64encode(zlib.compress(code.encode("utf-8"), 9)).decode("ascii").rstrip("=")
    return packed if len(packed) <= MAX_CODE_LINK_CHARS else None


def decode_code(packed: str) -> str:
    """The code a link carries; ValueError for anything that is not what `encode_code` wrote."""
    if len(packed) > MAX_CODE_LINK_CHARS:
        raise ValueError("it is too long")
    try:
        data = base64.b64decode(packed + "=" * (-len(packed) % 4), altchars=b"-_", validate=True)
        inflater = zlib.decompressobj()
        text = inflater.decompress(data, MAX_CODE_CHARS)
        if inflater.unconsumed_tail:
            raise ValueError("it expands too far")
        if not inflater.eof:
            raise ValueError("it is not code this page wrote")
        return text.decode("utf-8")
    except (binascii.Error, zlib.error, UnicodeDecodeError) as exc:
        raise ValueError("it is not code this page wrote") from exc


def read_code(reader: LinkReader) -> tuple[str, str, str]:
    code = ""
    packed = reader.text("code")
    if packed:
        try:
            code = decode_code(packed)
        except ValueError as exc:
            reader.notices.append(f"ignored the link's code: {exc}")
    function = (reader.text("function") or DEFAULT_FUNCTION).strip()
    if not function.isidentifier() or len(function) > FUNCTION_NAME_CHARS:
        reader.notices.append(f"ignored function={function[:20]!r} from the link: not a Python name")
        function = DEFAULT_FUNCTION
    args = "[]"
    raw_args = reader.text("args")
    if raw_args:
        try:
            args = check_args(raw_args)
        except InvalidSettings as exc:
            reader.notices.append(f"ignored the link's args: {exc}")
    return code, function, args


def link_params(settings: RunForm) -> tuple[dict[str, str], list[str]]:
    """The query string for these settings (defaults included, so a link is explicit), and any notice.

    The one notice: the code was too long for a link, which then holds the
    settings without it.
    """
    params = {
        "workload": settings.workload,
        "tasks": str(settings.tasks),
        "size": str(settings.size),
        "workers": str(settings.workers),
        "threads": str(settings.threads),
        "modes": ",".join(settings.modes),
        "repeats": str(settings.repeats),
    }
    notices: list[str] = []
    info = WORKLOADS[settings.workload]
    if not info.uses_size:
        del params["size"]
    if info.downloads:
        params["latency_ms"] = str(settings.latency_ms)
        if settings.url:
            params["url"] = settings.url
    if WORKLOADS[settings.workload].code_in_links:
        params["function"] = settings.function
        params["args"] = settings.args
        packed = encode_code(settings.code) if settings.code else None
        if packed is not None:
            params["code"] = packed
        elif settings.code:
            notices.append("Your code is too long for a share link: the link holds the settings without it.")
    for name, value in (
        ("start_method", settings.start_method),
        ("python", settings.python),
        ("gil", settings.gil),
    ):
        if value:
            params[name] = value
    if settings.xray:
        params["xray"] = "1"
    if settings.switch_interval_ms:
        params["switch_interval_ms"] = f"{settings.switch_interval_ms:g}"
    return params, notices


def read_web_link(params: Mapping[str, Any], controls: WebControls) -> tuple[WebForm, list[str]]:
    """Web-lab settings from a link (`?lab=web&...` or the web page's own), clamped like `read_link`."""
    reader = LinkReader(params)
    base = WebForm()
    settings = WebForm(
        endpoints=reader.names("endpoints", ENDPOINTS, base.endpoints, "endpoint"),
        clients=reader.number("clients", controls.clients, base.clients),
        requests=reader.number("requests", controls.requests, base.requests),
        duration=reader.number("duration", controls.duration, base.duration),
        latency_ms=reader.number("latency_ms", controls.latency_ms, base.latency_ms),
        size=reader.size(WORKLOADS["squares"].size_choices, base.size),
        threadpool=reader.number("threadpool", controls.threadpool, base.threadpool),
        server_workers=reader.number("server_workers", controls.server_workers, base.server_workers),
    )
    return settings, reader.notices


def web_link_params(settings: WebForm) -> dict[str, str]:
    params = {
        "endpoints": ",".join(settings.endpoints),
        "clients": str(settings.clients),
        "latency_ms": str(settings.latency_ms),
        "size": str(settings.size),
        "threadpool": str(settings.threadpool),
        "server_workers": str(settings.server_workers),
    }
    if settings.requests:
        params["requests"] = str(settings.requests)
    else:
        params["duration"] = str(settings.duration)
    return params
