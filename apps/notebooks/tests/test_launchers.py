"""The Streamlit, Gradio and Dash launchers in the generated main.py, run for real against
stand-ins of those libraries (``stand_ins/``: they are not installed here, and installing them in a
throwaway venv would take minutes). The stand-ins record how main.py started them; the tests check
Hangar's side of the run contract: port, address, prefix handling, and that the notebook's own
launch call neither blocks nor picks the port."""

import json
import sys
from pathlib import Path

import pytest

from apps.notebooks.tests.helpers import BASE_PATH, get, notebook_json, parsed_sources, running_app

pytestmark = pytest.mark.django_db
STAND_INS = {"PYTHONPATH": str(Path(__file__).resolve().parent / "stand_ins")}


def launched(user, tmp_path, *sources: str) -> tuple[dict, Path]:
    app = parsed_sources(user, notebook_json(*sources), "app.ipynb", tmp_path / "app")
    with running_app(sys.executable, app, env=STAND_INS) as url:
        status, body = get(url + "/")
    assert status == 200
    return json.loads(body), app


def test_streamlit_main_execs_python_m_streamlit_run_with_stand_in_streamlit(user, tmp_path):
    record, app = launched(user, tmp_path, "!pip install streamlit", "import streamlit as st\nst.title('Dashboard')")
    assert record["command"] == ["run", "app.py"]
    port = record["flags"].pop("--server.port")
    assert port.isdigit()
    assert record["flags"] == {
        "--server.address": "0.0.0.0",
        "--server.headless": "true",
        "--server.enableCORS": "false",
        "--server.enableXsrfProtection": "false",
        "--browser.gatherUsageStats": "false",
    }
    assert record["written"] == ["Dashboard"]  # app.py holds the notebook's cells
    assert "st.title('Dashboard')" in (app / "app.py").read_text()
    assert record["cwd"] == str(app)


def test_streamlit_colab_pattern_serves_the_written_script_with_stand_in_streamlit(user, tmp_path):
    record, app = launched(
        user,
        tmp_path,
        "%%writefile dashboard.py\nimport streamlit as st\nst.write('from the written script')\n",
        "!streamlit run dashboard.py & npx localtunnel --port 8501",
    )
    assert record["command"] == ["run", "dashboard.py"]
    assert record["written"] == ["from the written script"]
    assert not (app / "app.py").exists()


def test_gradio_main_launches_on_port_with_root_path_with_stand_in_gradio(user, tmp_path):
    record, _ = launched(
        user,
        tmp_path,
        "import gradio as gr\n\ndemo = gr.Interface(fn=str.upper, inputs='text', outputs='text')",
        "demo.launch(share=True, server_port=7860)",
    )
    kwargs = record["kwargs"]
    assert record["launched"] == "Interface"
    assert kwargs["server_name"] == "0.0.0.0"
    assert kwargs["share"] is False
    assert kwargs["root_path"] == BASE_PATH.rstrip("/")
    assert kwargs["server_port"] != 7860


def test_dash_main_sets_the_requests_prefix_with_stand_in_dash(user, tmp_path):
    record, _ = launched(
        user,
        tmp_path,
        "from dash import Dash\n\napp = Dash(__name__)",
        "if __name__ == '__main__':\n    app.run(debug=True)",
    )
    assert record["config"] == {"requests_pathname_prefix": BASE_PATH, "routes_pathname_prefix": "/"}
    assert record["host"] == "0.0.0.0"
    assert record["debug"] is False
