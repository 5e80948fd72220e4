"""``uvicorn rubric_xl.addin.asgi:app``: the add-in server for process managers
(several workers, systemd, containers).  Packs: ``RUBRIC_XL_RULES``."""
from . import create_app

app = create_app()
