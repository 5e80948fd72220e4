"""HTTP endpoints the add-in adds to xlwings Server.

``POST /rubric/score``          the task pane: workbook payload → score card + problems
``POST /rubric/functions-call`` the RUBRIC.* worksheet functions: one workbook payload
                                and a batch of calls → one result per call
``GET  /rubric/functions.js``   the functions' Office.js code (the manifest's script)
``GET  /manifest.xml``          this add-in's manifest (replaces xlwings Server's)

Payloads are exactly what the xlwings JS client's ``getBookData()`` returns.  All
messages are Chinese; no traceback ever reaches Excel.  Bodies are bounded by
:class:`._limits.BodyLimit`; scoring runs in a worker thread (:func:`._limits.run_scoring`)
so the event loop keeps answering other requests meanwhile; a large task-pane body
is scored in a separate, lower-priority process (:mod:`._worker`).
"""
from __future__ import annotations

import json
import logging
import time
import types
from typing import Any

import xlwings as xw
import xlwings.server as xs
from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from xlwings_server import dependencies as dep
from xlwings_server.config import settings

from . import _env, _functions, _worker
from ._json import parse_json
from ._limits import run_scoring
from ._worker import INTERNAL, assess_safely
from ._assess import Assessment
from ._manifest import render_manifest

logger = logging.getLogger(__name__)

APP_PATH = settings.app_path
router = APIRouter(prefix=APP_PATH)

FUNCTIONS_MODULE = types.SimpleNamespace(**{f.__name__: f for f in _functions.FUNCTIONS})
FUNCTIONS_JS = _env.ADDIN_DIR / "static" / "rubric" / "functions.js"
MAX_CALLS = 2000  # RUBRIC.* cells in one calculation; a 2005 workbook needs ~100


def _error(status: int, msg: str) -> JSONResponse:
    return JSONResponse({"ok": False, "message": msg, "detail": msg}, status_code=status)


def _functions_body(body: bytes) -> tuple[int, str] | tuple[dict, Assessment]:
    """Parse and score a RUBRIC.* batch (in a worker thread): (data, assessment),
    or (status, message) when refused."""
    try:
        data = parse_json(body)
    except ValueError as exc:
        return 400, str(exc)
    if not isinstance(data, dict) or not isinstance(data.get("calls"), list):
        return 400, "请求格式不正确：应包含 book（工作簿数据）和 calls（函数调用列表）。"
    if len(data["calls"]) > MAX_CALLS:  # each call runs on the event loop
        return 400, f"一次计算中的 RUBRIC 函数调用过多（{len(data['calls'])} 个，最多 {MAX_CALLS} 个）。"
    return data, assess_safely(data.get("book"))


@router.post("/rubric/score")
async def score_workbook(request: Request, current_user: dep.User):
    t0 = time.perf_counter()
    body = await request.body()
    status, content = await _worker.score(body)
    ms = (time.perf_counter() - t0) * 1000
    return Response(content, status_code=status, media_type="application/json",
                    headers={"Server-Timing": f"score;dur={ms:.2f}"})


@router.post("/rubric/functions-call")
async def functions_call(request: Request, current_user: dep.User):
    body = await request.body()
    data, score = await run_scoring(_functions_body, body, size=len(body))
    if isinstance(data, int):
        return _error(data, score)
    results = []
    for call in data["calls"]:
        results.append(await _one_call(call, data, score, current_user))
    return JSONResponse({"results": results})


async def _one_call(call: Any, body: dict, score: Assessment, current_user) -> list:
    name = call.get("func_name") if isinstance(call, dict) else None
    if not isinstance(name, str) or not hasattr(FUNCTIONS_MODULE, name):
        return [[f"错误：没有这个函数（{name}）"]]
    args = call.get("args")
    data = {
        "func_name": name, "args": args if isinstance(args, list) else [],
        "client": "Office.js", "version": xw.__version__,
        "runtime": str(body.get("runtime") or "1.4"),
        "caller_address": call.get("caller_address"),
        "culture_info_name": body.get("culture_info_name"), "date_format": body.get("date_format"),
    }
    try:
        return await xs.custom_functions_call(
            data, FUNCTIONS_MODULE, current_user,
            typehint_to_value={_functions.WorkbookScore: score})
    except Exception:  # noqa: BLE001
        logger.exception("custom function %s failed", name)
        return [["错误：" + INTERNAL]]


@router.get("/rubric/functions.js", name="rubric_functions_js")
async def functions_js():
    functions = [{"id": f.__xlfunc__["name"].upper(), "func": f.__name__} for f in _functions.FUNCTIONS]
    js = FUNCTIONS_JS.read_text(encoding="utf-8")
    js = js.replace("/*RUBRIC_FUNCTIONS*/[]", json.dumps(functions))
    js = js.replace("/*RUBRIC_APP_PATH*/", APP_PATH)
    return Response(js, media_type="text/javascript; charset=utf-8")


def _base_url(request: Request, proto: str) -> str:
    if settings.hostname:
        return f"https://{settings.hostname}{APP_PATH}"
    base = str(request.base_url).rstrip("/")
    if proto == "https":
        base = base.replace("http://", "https://", 1)
    return base + APP_PATH


@router.get("/manifest")
@router.get("/manifest.xml")
async def manifest(request: Request, proto: str = Header(default="", alias="X-Forwarded-Proto")):
    try:
        xml = render_manifest(_base_url(request, proto), check_url=False)
    except ValueError as exc:
        return PlainTextResponse(str(exc), status_code=400)
    return Response(xml, media_type="application/xml; charset=utf-8")


@router.get("/manifest/download")
async def manifest_download(request: Request, proto: str = Header(default="", alias="X-Forwarded-Proto")):
    resp = await manifest(request, proto)
    resp.headers["Content-Disposition"] = "attachment; filename=rubric-xl-manifest.xml"
    return resp
