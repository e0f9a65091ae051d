"""The measured FastAPI app: the same unit of work behind `def` and `async def`.

Only the server child imports this module (uvicorn loads it by its import
string, `lab.web.app:create_app`, so N worker processes can each build their
own app). Settings arrive as environment variables because uvicorn's worker
processes are spawned fresh and get nothing else from the command line.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

import anyio.to_thread
from fastapi import FastAPI, Query
from fastapi.responses import JSONResponse

from lab.core import config
from lab.core.procs import tie_to_parent
from lab.core.work import SQUARES_MAX_SIZE, squares
from lab.web.settings import DEFAULT_LATENCY_MS, DEFAULT_SIZE, DEFAULT_THREADPOOL, MAX_LATENCY_MS

ENV_THREADPOOL = config.WEB_THREADPOOL
ENV_READY_DIR = config.WEB_READY_DIR
ENV_PARENT_PID = config.WEB_PARENT_PID

LatencyMs = Annotated[int, Query(ge=0, le=MAX_LATENCY_MS)]
Size = Annotated[int, Query(ge=1, le=SQUARES_MAX_SIZE)]


def reply(**fields: int | str) -> JSONResponse:
    """Every answer names the process that served it, so the clients can count worker processes."""
    return JSONResponse({"pid": os.getpid(), **fields})


def create_app() -> FastAPI:
    """The app factory uvicorn calls in each worker process."""
    threadpool = int(os.environ.get(ENV_THREADPOOL, DEFAULT_THREADPOOL))
    ready_dir = os.environ.get(ENV_READY_DIR)
    parent = os.environ.get(ENV_PARENT_PID)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Sync endpoints run in AnyIO's default thread limiter: its tokens are the pool size.
        anyio.to_thread.current_default_thread_limiter().total_tokens = threadpool
        if parent:
            tie_to_parent(int(parent))  # a worker must not outlive uvicorn's supervisor
        if ready_dir:
            Path(ready_dir, str(os.getpid())).touch()
        yield

    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/ping")
    async def ping() -> JSONResponse:
        return reply()

    @app.get("/def_wait")
    def def_wait(latency_ms: LatencyMs = DEFAULT_LATENCY_MS) -> JSONResponse:
        time.sleep(latency_ms / 1000)
        return reply()

    @app.get("/async_wait")
    async def async_wait(latency_ms: LatencyMs = DEFAULT_LATENCY_MS) -> JSONResponse:
        await asyncio.sleep(latency_ms / 1000)
        return reply()

    @app.get("/async_blocking")
    async def async_blocking(latency_ms: LatencyMs = DEFAULT_LATENCY_MS) -> JSONResponse:
        time.sleep(latency_ms / 1000)  # the classic mistake: the event loop waits with it
        return reply()

    @app.get("/def_cpu")
    def def_cpu(size: Size = DEFAULT_SIZE) -> JSONResponse:
        return reply(value=str(squares(size)))

    @app.get("/async_cpu")
    async def async_cpu(size: Size = DEFAULT_SIZE) -> JSONResponse:
        return reply(value=str(squares(size)))

    return app
