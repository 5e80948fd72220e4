"""HTTP endpoints the add-in adds to xlwings Server.

``POST /rubric/score``          the task pane: workbook payload → score card + problems
``POST /rubric/functions-call`` the RUBRIC.* worksheet functions: one workbook payload
                                and a batch of calls → one result per call
``POST /xlwings/custom-scripts-call/write_scores``  写入得分 (ahead of xlwings Server's route)
``POST /xlwings/custom-scripts-call/<other>``  a Chinese 404 (写入得分 is the only script)
``GET  /rubric/functions.js``   the functions' Office.js code (the manifest's script)
``GET  /manifest.xml``          this add-in's manifest (replaces xlwings Server's)

Payloads are exactly what the xlwings JS client's ``getBookData()`` returns.  All
messages are Chinese; no traceback ever reaches Excel.  Bodies are bounded by
:class:`._limits.BodyLimit`; parsing, scoring and rendering run off the event loop
(:mod:`._worker`: a worker thread, or for a large body a separate lower-priority
process), so the event loop keeps answering other requests meanwhile.
"""
from __future__ import annotations

import json
import time

from fastapi import APIRouter, Header, Request
from fastapi.responses import PlainTextResponse, Response
from xlwings_server import dependencies as dep
from xlwings_server.config import settings

from ..sheettext import clean_text
from . import _env, _functions, _scripts, _worker
from ._limits import run_scoring
from ._manifest import render_manifest


APP_PATH = settings.app_path
router = APIRouter(prefix=APP_PATH)

FUNCTIONS_JS = _env.ADDIN_DIR / "static" / "rubric" / "functions.js"


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
    status, content = await _worker.functions(body, current_user)
    return Response(content, status_code=status, media_type="application/json")


@router.post("/xlwings/custom-scripts-call/write_scores")
async def write_scores_call(request: Request, current_user: dep.User):
    """写入得分, answered here instead of by xlwings Server's generic script route
    (which parses the body on the event loop and answers bad JSON in English)."""
    body = await request.body()
    status, content = await run_scoring(_scripts.write_scores_body, body, size=len(body))
    if status != 200:
        return PlainTextResponse(content, status_code=status)
    return Response(content, media_type="application/json")


@router.post("/xlwings/custom-scripts-call/{script_name}")
async def unknown_script_call(script_name: str, current_user: dep.User):
    """Any script but 写入得分 (matched above): a Chinese 404, not xlwings' English error."""
    shown = clean_text(script_name)[:60]
    return PlainTextResponse(f"评分助手没有名为“{shown}”的脚本。", status_code=404)


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
