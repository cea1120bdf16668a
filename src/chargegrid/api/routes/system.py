"""Health and metrics (no token needed)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from chargegrid.api.deps import PlatformDep

router = APIRouter(tags=["system"])


@router.get("/health", response_model=None)
async def health(platform: PlatformDep) -> JSONResponse:
    """200 when the process is up and the database answers, else 503."""
    try:
        await platform.db.ping()
    except Exception as error:
        return JSONResponse(
            {"status": "unavailable", "database": f"unreachable: {type(error).__name__}"},
            status_code=503,
        )
    return JSONResponse({"status": "ok", "database": "ok"})


@router.get("/metrics")
async def metrics(platform: PlatformDep) -> Response:
    """Prometheus metrics."""
    return Response(platform.metrics.render(), media_type=CONTENT_TYPE_LATEST)
