"""Process configuration for the embedded xlwings Server.

xlwings reads its licence and "on server" switch when it is first imported, and
xlwings-server reads its settings (``XLWINGS_*``) when *it* is first imported, so
:func:`ensure` must run before either.  Every value is a default: an administrator
can override any of them with the environment or a ``.env`` file (``DOTENV_PATH``),
except the project directory, which is always this package.
"""
from __future__ import annotations

import os
from pathlib import Path

ADDIN_DIR = Path(__file__).resolve().parent

# A fixed, unique id for the Office add-in: the manifest keeps it across releases so
# Office treats every new deployment as an update of the same add-in.
ADDIN_ID = "9019ccd9-2cf1-476d-82b3-97e91f9d9331"

NAMESPACE = "RUBRIC"

DEFAULTS = {
    # PolyForm Noncommercial 1.0.0 permits government and environmental-protection
    # use; see docs/addin.md.  A commercial key set by the administrator wins.
    "XLWINGS_LICENSE_KEY": "noncommercial",
    "XLWINGS_ON_SERVER": "true",
    "XLWINGS_ENVIRONMENT": "prod",
    "XLWINGS_PROJECT_NAME": "评分助手",
    "XLWINGS_FUNCTIONS_NAMESPACE": NAMESPACE,
    "XLWINGS_MANIFEST_ID_PROD": ADDIN_ID,
    # Features the task pane does not use: fewer scripts, fewer requests.
    "XLWINGS_ENABLE_SOCKETIO": "false",
    "XLWINGS_ENABLE_HTMX": "false",
    "XLWINGS_ENABLE_ALPINEJS_CSP": "false",
    "XLWINGS_ENABLE_HOTRELOAD": "false",
    "XLWINGS_ENABLE_EXAMPLES": "false",
    "XLWINGS_ENABLE_WASM": "false",
    "XLWINGS_LOG_LEVEL": "WARNING",
}


LICENCE_MESSAGE = ("xlwings Server 的服务器端功能未启用（没有有效的 xlwings 许可）。"
                   "政府和环保机构的非商业使用请在启动前设置环境变量 XLWINGS_LICENSE_KEY=noncommercial，"
                   "详见 docs/addin.md。")


def ensure() -> None:
    """Set the defaults (idempotent) and point xlwings-server at this package."""
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)
    os.environ["XLWINGS_PROJECT_DIR"] = str(ADDIN_DIR)
