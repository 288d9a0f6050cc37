"""``GET /healthz`` for load balancers and orchestrators in front of ``chatrec serve`` workers.

200 ``{"status": "ok", ...}`` once the agent is loaded and its store answers; 503 while loading,
when loading failed, or when the store (SQLite file or PostgreSQL server) cannot be reached — so
a balancer sends no user to a worker that would lose their turn.
"""

from __future__ import annotations

import time

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

HEALTH_PATH = "/healthz"


def health_route(loader) -> Route:
    """The route, over a ``ui.loader.AgentLoader``."""

    async def health(_request: Request) -> JSONResponse:
        status = loader.status()
        if status.state != "ready":
            return JSONResponse({"status": status.state}, status_code=503)
        agent = loader.get(timeout=0)
        body: dict = {"status": "ok", "catalog": agent.catalog.name, "items": len(agent.catalog)}
        store = getattr(agent, "store", None)
        if store is not None and hasattr(store, "ping"):
            started = time.perf_counter()
            try:
                await run_in_threadpool(store.ping)
            except Exception as exc:  # noqa: BLE001 - reported, not raised: this is the probe
                return JSONResponse({"status": "store unavailable", "detail": str(exc)[:300]}, status_code=503)
            body["store"] = {"backend": store.dialect, "ping_ms": round((time.perf_counter() - started) * 1000, 1)}
        return JSONResponse(body)

    return Route(HEALTH_PATH, health, methods=["GET"])
