"""Parsing without the database: reading, kernels, magics, dependencies, app kinds, generated sources."""

import ast
import json

import pytest

from apps.notebooks.dependencies import detect_dependencies, pypi_name
from apps.notebooks.generate import DOCKERFILE, generate_sources, requirements_txt, text_literal
from apps.notebooks.parsing import NotebookRejected, parse_notebook
from apps.notebooks.tests.helpers import fixture_bytes, notebook_json


def parse_fixture(name: str):
    return parse_notebook(fixture_bytes(name))


def deps_of(*sources: str) -> list[str]:
    return parse_notebook(notebook_json(*sources)).dependencies


# --- realistic notebooks --------------------------------------------------------------------------


def test_pandas_matplotlib_notebook():
    parsed = parse_fixture("sales_analysis.ipynb")
    assert parsed.app_kind == "outputs"
    assert len(parsed.code_cells) == 8
    assert parsed.dependencies == ["matplotlib", "numpy", "pandas", "Pillow", "scikit-learn", "seaborn==0.13.2"]
    first = parsed.code_cells[0].source
    assert "%matplotlib" not in first.replace("# %matplotlib", "")
    assert all(line.startswith("#") for line in first.splitlines())  # every magic left the code
    assert parsed.warnings == []  # pip lines and display-only magics are silent


def test_flask_notebook():
    parsed = parse_fixture("flask_app.ipynb")
    assert parsed.app_kind == "flask"
    assert parsed.dependencies == ["flask"]
    assert len(parsed.code_cells) == 4


def test_fastapi_notebook_needs_uvicorn_to_serve():
    parsed = parse_fixture("fastapi_app.ipynb")
    assert parsed.app_kind == "fastapi"
    sources = generate_sources(parsed=parsed, filename="fastapi_app.ipynb")
    assert sources["requirements.txt"].splitlines()[1:] == ["fastapi", "uvicorn"]


def test_streamlit_notebook_keeps_its_pin():
    parsed = parse_fixture("streamlit_app.ipynb")
    assert parsed.app_kind == "streamlit"
    assert parsed.dependencies == ["numpy", "pandas", "plotly", "streamlit==1.39.0"]
    sources = generate_sources(parsed=parsed, filename="streamlit_app.ipynb")
    # The pinned streamlit is not added a second time, unpinned.
    assert sources["requirements.txt"].splitlines()[1:] == ["numpy", "pandas", "plotly", "streamlit==1.39.0"]
    assert "st.title('Sales dashboard')" in sources["app.py"]
    assert 'sys.executable, "-m", "streamlit", "run", script,' in sources["main.py"]


def test_colab_streamlit_pattern_serves_the_written_script():
    parsed = parse_fixture("colab_streamlit.ipynb")
    assert parsed.app_kind == "streamlit"
    assert parsed.streamlit_script == "app.py"
    # imports inside the %%writefile'd script count; localtunnel (npm) is not a Python package
    assert parsed.dependencies == ["PyYAML", "streamlit"]
    assert any("Hangar serves app.py itself" in warning for warning in parsed.warnings)
    sources = generate_sources(parsed=parsed, filename="colab_streamlit.ipynb")
    assert "app.py" not in sources  # the notebook's own cells write it
    assert "SCRIPT = 'app.py'" in sources["main.py"]


def test_nbformat_v3_is_converted():
    parsed = parse_fixture("legacy_v3.ipynb")
    assert parsed.app_kind == "outputs"
    assert [cell.source for cell in parsed.code_cells] == ["import requests\nimport yaml\nprint('legacy ok')"]
    assert parsed.dependencies == ["PyYAML", "requests"]
    # v3's heading cell becomes a markdown heading
    assert [cell.source for cell in parsed.markdown_cells] == ["# Legacy notebook", "Some *notes*."]


def test_r_kernel_is_unsupported():
    with pytest.raises(NotebookRejected) as caught:
        parse_fixture("r_kernel.ipynb")
    assert caught.value.error_code == "UNSUPPORTED_KERNEL"
    assert "R kernel" in str(caught.value.detail)
    assert "Python notebooks only" in str(caught.value.detail)


@pytest.mark.parametrize(
    "metadata",
    [
        {"kernelspec": {"name": "julia-1.9", "display_name": "Julia 1.9.3", "language": "julia"}},
        {"language_info": {"name": "javascript"}},
        {"kernelspec": {"name": "ir", "display_name": "R"}},
    ],
)
def test_other_kernels_are_unsupported(metadata):
    content = json.loads(notebook_json("x = 1"))
    content["metadata"] = metadata
    with pytest.raises(NotebookRejected) as caught:
        parse_notebook(json.dumps(content).encode())
    assert caught.value.error_code == "UNSUPPORTED_KERNEL"


def test_a_notebook_without_kernel_metadata_is_python():
    content = json.loads(notebook_json("x = 1"))
    content["metadata"] = {}
    assert parse_notebook(json.dumps(content).encode()).app_kind == "outputs"


def test_shell_and_cell_magics():
    parsed = parse_fixture("shell_magics.ipynb")
    cells = {cell.number: cell.source for cell in parsed.code_cells}
    assert "subprocess.run('echo \"bash says hi\"\\nls > listing.txt', shell=True, check=False" in cells[1]
    assert "executable='/bin/bash'" in cells[1]
    assert "open('helpers.py', 'w', encoding='utf-8')" in cells[2]
    assert all(line.startswith("#") for line in cells[4].splitlines())  # %%html
    assert all(line.startswith("#") for line in cells[7].splitlines())  # %%javascript
    assert "import tqdm" in cells[5] and "%%capture" not in cells[5]
    assert "subprocess.run('echo plain shell', shell=True, check=False)" in cells[6]
    assert "total = sum(range(10))" in cells[6]
    assert "os.environ['MODE'] = 'production'" in cells[6]
    assert "# files = !ls" in cells[6]
    for source in cells.values():
        ast.parse(source)  # every translated cell is plain Python
    # helpers (written by %%writefile) is the notebook's own module, its requests import counts
    assert parsed.dependencies == ["python-dateutil", "requests", "tqdm"]
    assert [warning.split(":")[0] for warning in parsed.warnings] == [
        "Cell 1",
        "Cell 2",
        "Cell 4",
        "Cell 6",
        "Cell 6",
        "Cell 7",
    ]
    assert "%%html cell magic is not supported" in parsed.warnings[2]


def test_indented_magics_leave_a_pass():
    parsed = parse_notebook(notebook_json("for i in range(2):\n    %time x = i\n    !echo {i}\n"))
    source = parsed.code_cells[0].source
    assert "    x = i" in source
    assert "    pass  # !echo {i}" in source
    ast.parse(source)
    assert "IPython interpolation" in parsed.warnings[0]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("%pip install requests==2.32.3", ["requests==2.32.3"]),
        ("!pip install -q -U 'pandas>=2' numpy", ["numpy", "pandas>=2"]),
        ("!pip3 install --upgrade pip scikit-learn", ["scikit-learn"]),
        ("!python -m pip install xgboost==2.1.0", ["xgboost==2.1.0"]),
        ("!{sys.executable} -m pip install lightgbm", ["lightgbm"]),
        ("%conda install -c conda-forge polars=1.9", ["polars==1.9"]),
        ("!pip install --index-url https://example.org/simple torch", ["torch"]),
        ("!pip install git+https://github.com/psf/black.git", ["git+https://github.com/psf/black.git"]),
    ],
)
def test_pip_lines_become_requirements(line, expected):
    parsed = parse_notebook(notebook_json(line))
    assert parsed.dependencies == expected
    assert parsed.code_cells[0].source.startswith("#")


def test_pip_pin_wins_over_the_bare_import():
    assert deps_of("%pip install scikit-learn==1.5.2\nimport sklearn\nfrom sklearn import datasets") == [
        "scikit-learn==1.5.2"
    ]


def test_imports_map_to_pypi_names():
    source = "\n".join(
        [
            "import cv2, yaml, bs4, skimage",
            "from PIL import Image",
            "from Crypto.Cipher import AES",
            "from dateutil import parser",
            "from dotenv import load_dotenv",
            "import jwt, attr, serial, usb, magic, docx, pptx, fitz, telegram, discord",
            "from OpenSSL import crypto",
            "from google.cloud import storage, bigquery",
            "import google.cloud.pubsub_v1",
            "from google.colab import drive",
            "import os, sys, json, collections.abc, __future__",
            "from . import sibling",
            "from .pkg import thing",
        ]
    )
    assert deps_of(source) == [
        "attrs",
        "beautifulsoup4",
        "discord.py",
        "google-cloud-bigquery",
        "google-cloud-pubsub-v1",
        "google-cloud-storage",
        "opencv-python",
        "Pillow",
        "pycryptodome",
        "PyJWT",
        "PyMuPDF",
        "pyOpenSSL",
        "pyserial",
        "python-dateutil",
        "python-docx",
        "python-dotenv",
        "python-magic",
        "python-pptx",
        "python-telegram-bot",
        "pyusb",
        "PyYAML",
        "scikit-image",
    ]


def test_pypi_name_rules():
    assert pypi_name("sklearn.linear_model") == "scikit-learn"
    assert pypi_name("google.cloud.storage") == "google-cloud-storage"
    assert pypi_name("azure.storage.blob") == "azure-storage-blob"
    assert pypi_name("google.colab.drive") is None
    assert pypi_name("requests.adapters") == "requests"


def test_own_modules_and_defined_names_are_not_dependencies():
    tree = ast.parse("def tools():\n    pass\nimport tools\nimport mymodule\nimport numpy")
    assert detect_dependencies(trees=[tree], local_modules={"mymodule"}) == ["numpy"]


def test_dependencies_are_sorted_and_unique():
    assert deps_of("import pandas", "import numpy as np\nimport pandas as pd", "from numpy import array") == [
        "numpy",
        "pandas",
    ]


# --- app kinds ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("import gradio as gr\ndemo = gr.Interface(fn=str, inputs='text', outputs='text')", "gradio"),
        ("from dash import Dash, html\napp = Dash(__name__)\napp.layout = html.Div('hi')", "dash"),
        ("from fastapi import FastAPI\napp = FastAPI()", "fastapi"),
        ("import flask\nserver = flask.Flask('x')", "flask"),
        ("import streamlit as st\nst.write('hi')", "streamlit"),
        ("from flask import jsonify\nprint(jsonify)", "outputs"),  # flask imported but no app built
        ("import pandas as pd\npd.DataFrame()", "outputs"),
    ],
)
def test_app_kind_from_imports_and_usage(source, kind):
    assert parse_notebook(notebook_json(source)).app_kind == kind


# --- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty"),
        (b"   \n", "The file is empty"),
        (b"\xff\xfe\x00binary", "not UTF-8"),
        (b"not json at all", "not valid JSON"),
        (b"[1, 2, 3]", "not a Jupyter notebook"),
        (b'{"name": "package.json"}', "not a Jupyter notebook"),
        (b'{"nbformat": 4}', "Invalid notebook: The notebook is invalid and is missing an expected key: cells"),
        (b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "bogus"}]}', "Invalid"),
        (b'{"nbformat": 9, "nbformat_minor": 0, "metadata": {}, "cells": []}', "nbformat 9 is not supported"),
        (b'{"nbformat": "4"}', "is not supported"),
        (b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []}', "no code cells"),
    ],
)
def test_bad_notebooks_are_rejected_with_a_reason(content, message):
    with pytest.raises(NotebookRejected) as caught:
        parse_notebook(content)
    assert caught.value.error_code == "INVALID_NOTEBOOK"
    assert caught.value.status_code == 400
    assert message in str(caught.value.detail)


def test_markdown_only_notebook_has_no_code_cells():
    with pytest.raises(NotebookRejected, match="no code cells"):
        parse_fixture("markdown_only.ipynb")


def test_syntax_error_in_an_outputs_notebook_is_a_warning():
    parsed = parse_fixture("syntax_error.ipynb")
    assert parsed.app_kind == "outputs"
    assert parsed.code_cells[1].syntax_error == "line 1: invalid syntax"
    assert parsed.warnings == ["Cell 2: syntax error (line 1: invalid syntax); the app page shows it"]


def test_imports_of_a_cell_with_a_syntax_error_still_count():
    parsed = parse_notebook(notebook_json("import requests\nfrom bs4 import BeautifulSoup\ndef broken(:\n    pass"))
    assert parsed.dependencies == ["beautifulsoup4", "requests"]


def test_colab_content_paths_become_relative():
    parsed = parse_notebook(
        notebook_json("%%writefile /content/app.py\nimport streamlit as st\n", "!streamlit run /content/app.py &")
    )
    assert parsed.streamlit_script == "app.py"
    assert "open('app.py', 'w'" in parsed.code_cells[0].source


def test_syntax_error_in_a_server_app_is_refused_naming_the_cell():
    with pytest.raises(NotebookRejected) as caught:
        parse_fixture("flask_syntax_error.ipynb")
    assert str(caught.value.detail) == (
        "Cell 2 has a Python syntax error (line 2: invalid syntax); a flask app cannot start with it"
    )


# --- generated sources ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["plain", "ends with a quote'", "has ''' triple", "back\\slash\\", "tab\tand\x00nul", "unicode é ✓ \u2028", ""],
)
def test_text_literal_round_trips(text):
    assert ast.literal_eval(text_literal(text)) == text


@pytest.mark.parametrize(
    "name",
    [
        "sales_analysis.ipynb",
        "flask_app.ipynb",
        "fastapi_app.ipynb",
        "streamlit_app.ipynb",
        "colab_streamlit.ipynb",
        "shell_magics.ipynb",
        "legacy_v3.ipynb",
        "syntax_error.ipynb",
    ],
)
def test_generated_main_py_compiles_and_holds_the_cells(name):
    parsed = parse_fixture(name)
    sources = generate_sources(parsed=parsed, filename=name)
    tree = ast.parse(sources["main.py"])
    cells = next(node.value for node in tree.body if isinstance(node, ast.Assign) and node.targets[0].id == "CELLS")
    cell_sources = [ast.literal_eval(item)[-1] for item in cells.elts]
    for cell in parsed.code_cells:
        assert cell.source in cell_sources
    assert sources["Dockerfile"] == DOCKERFILE


def test_dockerfile():
    lines = DOCKERFILE.splitlines()
    assert "FROM python:3.11-slim" in lines
    assert "RUN pip install --no-cache-dir -r requirements.txt" in lines
    assert 'CMD ["python", "main.py"]' in lines
    assert "EXPOSE 8080" in lines


def test_requirements_add_what_the_kind_serves_with():
    assert requirements_txt(dependencies=["pandas"], app_kind="outputs", filename="a.ipynb").splitlines()[1:] == [
        "pandas"
    ]
    assert requirements_txt(dependencies=["Flask==3.0.3"], app_kind="flask", filename="a.ipynb").splitlines()[1:] == [
        "Flask==3.0.3"
    ]
    assert requirements_txt(dependencies=["numpy"], app_kind="dash", filename="a.ipynb").splitlines()[1:] == [
        "dash",
        "numpy",
    ]
