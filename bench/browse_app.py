"""The app as gunicorn serves it, plus one trivial route: the framework's floor for bench/browse.py.

The route goes through the same app, hooks and headers as every page, and touches no database.
"""

from wsgi import app


@app.get("/bench/floor")
def floor() -> str:
    return "ok"
