"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

import os
import tempfile

from flask import Blueprint, current_app
from sqlalchemy import text

from serving.api import Out, operation
from serving.db import db

bp = Blueprint("health", __name__)


class Health(Out):
    status: str
    checks: dict[str, str] = {}


@bp.get("/healthz")
@operation(public=True, response=Health)
def healthz() -> Health:
    """Report that the process is alive."""
    return Health(status="ok")


@bp.get("/readyz")
@operation(public=True, response=Health, errors=(503,))
def readyz() -> tuple[Health, int]:
    """Report whether the control DB answers and ``var/`` is writable."""
    checks = {"control_db": _check_db(), "var_dir": _check_var()}
    ready = all(value == "ok" for value in checks.values())
    return Health(status="ok" if ready else "unavailable", checks=checks), 200 if ready else 503


def _check_db() -> str:
    try:
        db().execute(text("select 1"))
        return "ok"
    except Exception as exc:  # any driver error means not ready
        return f"error: {type(exc).__name__}"


def _check_var() -> str:
    var_dir = current_app.config["SHOPLAKE"].var_dir
    try:
        var_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=var_dir, prefix=".ready-"):
            pass
        return "ok" if os.access(var_dir, os.W_OK) else "error: not writable"
    except OSError as exc:
        return f"error: {exc.strerror}"
