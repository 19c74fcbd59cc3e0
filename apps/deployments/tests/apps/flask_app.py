"""A Flask app served under its Hangar prefix (Flask comes from the build's venv)."""

import os

from flask import Flask, redirect, url_for

app = Flask(__name__)


@app.get("/")
def index():
    return f"flask says hi under {os.environ['HANGAR_BASE_PATH']}"


@app.get("/go")
def go():
    return redirect(url_for("index"))


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=int(os.environ["PORT"]))
