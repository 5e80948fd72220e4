"""``rubric-xl addin``: run the Excel add-in server, write its Office manifest."""
from __future__ import annotations

import os

import click

from ..errors import RubricError
from . import cli
from .common import EXIT_INPUT, PACK, emit, fail

INSTALL_HINT = "评分助手服务需要安装附加组件：pip install \"rubric-xl[addin]\""


@cli.group("addin")
def addin_group() -> None:
    """Excel 加载项“评分助手”：启动服务（serve）、生成部署清单（manifest）。"""


@addin_group.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址（对外服务请放在 HTTPS 反向代理之后）。")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="监听端口。")
@click.option("--rules", "rules", multiple=True, type=PACK,
              help="规则包文件、文件夹或编号，可重复给出（默认：环境变量 RUBRIC_XL_RULES，否则 ./rules，"
                   "再否则随 rubric-xl 安装的规则包）。")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="工作进程数。")
@click.option("--max-body-mb", type=click.FloatRange(0, 1024, min_open=True),
              help="单个请求的数据上限（MB，默认 4；也可用环境变量 RUBRIC_XL_ADDIN_MAX_BODY_MB）。")
@click.pass_context
def serve_cmd(ctx, host, port, rules, workers, max_body_mb):
    """启动评分助手服务（xlwings Server + uvicorn），供 Excel 加载项使用。"""
    from ..addin import extra_installed

    if not extra_installed():
        click.echo(f"错误：{INSTALL_HINT}", err=True)
        ctx.exit(EXIT_INPUT)
    from ..addin import _packs

    if max_body_mb is not None:  # the environment reaches worker processes too
        from ..addin._limits import ENV_MAX_BODY_MB

        os.environ[ENV_MAX_BODY_MB] = repr(max_body_mb)
    if rules:  # also for worker processes, which configure themselves from the environment
        os.environ[_packs.ENV_RULES] = os.pathsep.join(os.path.abspath(r) for r in rules)
    try:
        registry = _packs.configure(list(rules) if rules else None)
    except RubricError as exc:
        fail(exc)
    if not registry.packs:
        click.echo("错误：没有可用的规则包，请用 --rules 指定。", err=True)
        ctx.exit(EXIT_INPUT)
    import uvicorn

    from ..addin import create_app

    try:
        app = create_app()  # configures xlwings Server before uvicorn imports anything
    except RuntimeError as exc:  # xlwings' server features unavailable (licence)
        click.echo(f"错误：{exc}", err=True)
        ctx.exit(EXIT_INPUT)
    if not _port_free(host, port):
        click.echo(f"错误：无法在 {host}:{port} 上启动：端口已被占用或地址不可用，请换一个 --port。", err=True)
        ctx.exit(EXIT_INPUT)
    names = "、".join(f"{p.id} {p.version}" for p in registry.packs)
    click.echo(f"评分助手服务：http://{host}:{port}/taskpane.html（规则包：{names}）", err=True)
    click.echo("按 Ctrl+C 停止。", err=True)
    if workers > 1:
        uvicorn.run("rubric_xl.addin.asgi:app", host=host, port=port, workers=workers,
                    log_level="warning", proxy_headers=True)
    else:
        uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=True)


def _port_free(host: str, port: int) -> bool:
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return False
    family, *_rest, addr = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(addr)
        except OSError:
            return False
    return True


@addin_group.command("manifest")
@click.option("--url", required=True, help="评分助手服务的 HTTPS 地址，例如 https://pingfen.example.gov.cn")
@click.option("-o", "--output", type=click.Path(), help="输出文件（默认打印到屏幕），例如 manifest.xml。")
def manifest_cmd(url, output):
    """生成 Office 加载项清单（manifest.xml），由信息中心通过 Microsoft 365 管理中心集中部署。"""
    from ..addin import render_manifest

    try:
        xml = render_manifest(url)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--url") from None
    emit(xml, output)
    if output and output != "-":
        click.echo(f"已生成加载项清单：{output}", err=True)
