"""From the bytes of an ``.ipynb`` to what Hangar needs: code, dependencies and the app kind.

Everything here is pure (no database): :func:`parse_notebook` raises :class:`NotebookRejected`
with a user-facing reason, and the service marks the notebook failed and answers 400.
"""

import ast
import json
import warnings
from dataclasses import dataclass, field

import nbformat

from apps.core.errors import ErrorCode, HangarError
from apps.notebooks.dependencies import detect_dependencies, imported_top_levels, local_module_names
from apps.notebooks.magics import CodeCell, translate_cells

# App kinds whose server cannot start if one cell does not compile; the outputs kind shows the
# error on its page instead.
SERVER_KINDS = ("streamlit", "gradio", "dash", "fastapi", "flask")
# Per kind: the constructor calls that show the notebook really builds such an app.
_APP_CALLS = {
    "gradio": {"Interface", "Blocks", "ChatInterface", "TabbedInterface"},
    "dash": {"Dash", "JupyterDash"},
    "fastapi": {"FastAPI"},
    "flask": {"Flask"},
}


class NotebookRejected(HangarError):
    """A notebook Hangar cannot turn into an app: 400 with the reason."""

    def __init__(self, detail: str, *, error_code: str = ErrorCode.INVALID_NOTEBOOK) -> None:
        super().__init__(detail, error_code=error_code, status_code=400)


@dataclass
class MarkdownCell:
    """A markdown cell, kept for the outputs page. ``number`` counts all cells from 1."""

    number: int
    source: str


@dataclass
class ParsedNotebook:
    """The result of parsing: translated cells, requirements, app kind and warnings."""

    code_cells: list[CodeCell]
    markdown_cells: list[MarkdownCell]
    dependencies: list[str]
    app_kind: str
    warnings: list[str] = field(default_factory=list)
    written_files: dict[str, str] = field(default_factory=dict)
    streamlit_script: str | None = None


def read_notebook(content: bytes) -> nbformat.NotebookNode:
    """The notebook in ``content`` as nbformat v4, validated; :class:`NotebookRejected` otherwise."""
    if not content.strip():
        raise NotebookRejected("The file is empty; upload a Jupyter notebook (.ipynb)")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise NotebookRejected("The file is not UTF-8 text, so it is not a Jupyter notebook") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        reason = f"The file is not valid JSON ({exc.msg} at line {exc.lineno}), so it is not a notebook"
        raise NotebookRejected(reason) from None
    if not isinstance(data, dict) or "nbformat" not in data:
        raise NotebookRejected("The file is JSON but not a Jupyter notebook: it has no 'nbformat' version")
    major = data["nbformat"]
    if not isinstance(major, int) or isinstance(major, bool) or major not in (3, 4):
        raise NotebookRejected(f"Invalid notebook: nbformat {major!r} is not supported (3 and 4 are)")
    try:
        # reader.reads(), not from_dict(): it joins list-of-lines sources, which v3 conversion needs.
        notebook = nbformat.reader.reads(text)
        with warnings.catch_warnings():
            # Old v4 notebooks lack cell ids; nbformat adds them and warns, which is fine here.
            warnings.simplefilter("ignore")
            nbformat.validate(notebook, version=major)
            if major == 3:
                notebook = nbformat.convert(notebook, 4)
    except nbformat.ValidationError as exc:
        raise NotebookRejected(f"Invalid notebook: {_first_line(exc.message)[:300]}") from None
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise NotebookRejected(f"Invalid notebook: {_first_line(str(exc))[:300] or 'unreadable format'}") from None
    return notebook


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def check_kernel(notebook: nbformat.NotebookNode) -> None:
    """Refuse notebooks whose kernel is not Python (no kernel metadata counts as Python)."""
    metadata = notebook.get("metadata", {})
    kernelspec = metadata.get("kernelspec") or {}
    language_info = metadata.get("language_info") or {}
    language = str(kernelspec.get("language") or language_info.get("name") or "").strip()
    name = str(kernelspec.get("name") or "").strip()
    if not language and name and not name.lower().startswith(("python", "py")):
        language = name
    if language and not language.lower().startswith("python"):
        label = kernelspec.get("display_name") or language
        raise NotebookRejected(
            f"This notebook uses the {label} kernel (language: {language}); Hangar runs Python notebooks only",
            error_code=ErrorCode.UNSUPPORTED_KERNEL,
        )


def _called_names(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name):
                names.add(node.func.id)
            elif isinstance(node.func, ast.Attribute):
                names.add(node.func.attr)
    return names


def detect_app_kind(trees: list[ast.Module], *, streamlit_script: str | None = None) -> str:
    """``streamlit``, ``gradio``, ``dash``, ``fastapi``, ``flask`` from imports and usage, else ``outputs``."""
    imported = imported_top_levels(trees)
    if streamlit_script or "streamlit" in imported:
        return "streamlit"
    calls: set[str] = set()
    for tree in trees:
        calls |= _called_names(tree)
    for kind in ("gradio", "dash", "fastapi", "flask"):
        if kind in imported and calls & _APP_CALLS[kind]:
            return kind
    if "jupyter_dash" in imported and "JupyterDash" in calls:
        return "dash"
    return "outputs"


def _trees(cells: list[CodeCell], written_files: dict[str, str]) -> list[ast.Module]:
    sources = [cell.source for cell in cells if cell.syntax_error is None]
    sources += [body for path, body in written_files.items() if path.endswith(".py")]
    # A cell that does not compile still shows its imports line by line (its app page runs the rest).
    sources += [line.strip() for cell in cells if cell.syntax_error for line in cell.source.splitlines()]
    trees = []
    for source in sources:
        try:
            trees.append(ast.parse(source))
        except SyntaxError:
            continue  # not valid Python on its own: nothing to learn from it
    return trees


def parse_notebook(content: bytes) -> ParsedNotebook:
    """Read, check and analyse a notebook; :class:`NotebookRejected` for anything unusable."""
    notebook = read_notebook(content)
    check_kernel(notebook)
    code, markdown = [], []
    for number, cell in enumerate(notebook.cells, start=1):
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        if cell.cell_type == "code" and source.strip():
            code.append((number, source))
        elif cell.cell_type == "markdown" and source.strip():
            markdown.append(MarkdownCell(number=number, source=source))
    if not code:
        raise NotebookRejected("The notebook has no code cells, so there is nothing to run")
    translation = translate_cells(code)
    trees = _trees(translation.cells, translation.written_files)
    app_kind = detect_app_kind(trees, streamlit_script=translation.streamlit_script)
    notes = list(translation.warnings)
    for cell in translation.cells:
        if cell.syntax_error is None:
            continue
        if app_kind in SERVER_KINDS:
            raise NotebookRejected(
                f"Cell {cell.number} has a Python syntax error ({cell.syntax_error}); "
                f"a {app_kind} app cannot start with it"
            )
        notes.append(f"Cell {cell.number}: syntax error ({cell.syntax_error}); the app page shows it")
    dependencies = detect_dependencies(
        trees=trees,
        pip_requirements=translation.requirements,
        local_modules=local_module_names(translation.written_files),
    )
    return ParsedNotebook(
        code_cells=translation.cells,
        markdown_cells=markdown,
        dependencies=dependencies,
        app_kind=app_kind,
        warnings=notes,
        written_files=translation.written_files,
        streamlit_script=translation.streamlit_script,
    )
