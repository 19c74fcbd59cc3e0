"""Every write of the notebooks app: upload, parse, replace, delete, and the generated sources.

Other apps (builds, pipelines, webhooks) call these functions; they are keyword-only and raise
:class:`HangarError` with the documented status and code.
"""

import re
from pathlib import Path, PurePosixPath
from typing import Any

from django.core.files.base import ContentFile, File
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from apps.activity.models import Activity
from apps.activity.services import activity_record
from apps.core.errors import ErrorCode, HangarError
from apps.core.state import IllegalTransition
from apps.notebooks.generate import generate_sources
from apps.notebooks.models import Notebook
from apps.notebooks.parsing import NotebookRejected, parse_notebook

MAX_FILENAME_LENGTH = 255
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Statuses a notebook can only have after a successful parse (failed may come from a build).
_PARSED_STATUSES = {
    Notebook.Status.PARSED,
    Notebook.Status.BUILDING,
    Notebook.Status.BUILT,
    Notebook.Status.DEPLOYING,
    Notebook.Status.DEPLOYED,
}


def too_large(cap: int) -> HangarError:
    """The 413 for a notebook over the tier's ``max_notebook_bytes``."""
    return HangarError(
        f"Notebook exceeds your plan's {cap / 1024**2:.0f} MB limit",
        error_code=ErrorCode.PAYLOAD_TOO_LARGE,
        status_code=413,
    )


def notebook_size_cap(*, owner: Any) -> int:
    """The largest notebook ``owner``'s tier may upload, in bytes."""
    return int(owner.tier_limits["max_notebook_bytes"])


def clean_notebook_filename(raw: str | None) -> str:
    """The bare ``.ipynb`` file name of an upload, or 400 ``INVALID_NOTEBOOK``."""
    name = _CONTROL.sub("", (raw or "").replace("\\", "/").rsplit("/", 1)[-1]).strip()
    if not name.lower().endswith(".ipynb") or name.startswith("."):
        raise HangarError(
            "Only Jupyter notebooks (.ipynb files) can be uploaded",
            error_code=ErrorCode.INVALID_NOTEBOOK,
            status_code=400,
        )
    if len(name) > MAX_FILENAME_LENGTH:
        stem = PurePosixPath(name).stem[: MAX_FILENAME_LENGTH - len(".ipynb")]
        name = f"{stem}.ipynb"
    return name


def _name_of(filename: str) -> str:
    return filename[: -len(".ipynb")][:200] or "notebook"


def notebook_upload(*, owner: Any, uploaded_file: File, request: HttpRequest | None = None) -> Notebook:
    """Store an uploaded ``.ipynb`` for ``owner`` (status ``uploaded``).

    400 ``INVALID_NOTEBOOK`` for a file that is not named ``.ipynb``; 413 ``PAYLOAD_TOO_LARGE`` past
    the tier's ``max_notebook_bytes``. The content is checked when the notebook is parsed.
    """
    filename = clean_notebook_filename(getattr(uploaded_file, "name", None))
    cap = notebook_size_cap(owner=owner)
    if uploaded_file.size is not None and uploaded_file.size > cap:
        raise too_large(cap)
    notebook = Notebook(owner=owner, name=_name_of(filename), filename=filename, size_bytes=uploaded_file.size or 0)
    notebook.file.save(filename, uploaded_file, save=False)
    with transaction.atomic():
        notebook.save()
        activity_record(
            user=owner,
            action="notebook_uploaded",
            details=f"Uploaded notebook {filename}",
            request=request,
            metadata={"notebook_id": notebook.pk},
        )
    return notebook


def _content(notebook: Notebook) -> bytes:
    try:
        with notebook.file.open("rb") as handle:
            return handle.read()
    except (FileNotFoundError, ValueError):
        raise NotebookRejected("The notebook's file is missing from storage; upload it again") from None


def _mark_failed(notebook: Notebook, reason: str, request: HttpRequest | None) -> None:
    with transaction.atomic():
        locked = Notebook.objects.select_for_update().get(pk=notebook.pk)
        locked.transition_to(Notebook.Status.FAILED)
        locked.error_message = reason
        locked.main_py = locked.requirements_txt = ""
        locked.save(update_fields=["status", "error_message", "main_py", "requirements_txt", "updated_at"])
        activity_record(
            user=notebook.owner,
            action="notebook_parse_failed",
            details=f"Parsing {notebook.filename} failed: {reason}",
            status=Activity.Status.FAILURE,
            request=request,
            metadata={"notebook_id": notebook.pk},
        )
    notebook.refresh_from_db()


def notebook_parse(*, notebook: Notebook, request: HttpRequest | None = None) -> Notebook:
    """Parse the notebook: its code cells, dependencies, app kind and generated sources.

    A notebook Hangar cannot use is marked ``failed`` (with ``error_message``) and the
    :class:`HangarError` is raised: 400 ``INVALID_NOTEBOOK`` or ``UNSUPPORTED_KERNEL``. A status
    that cannot become ``parsed`` (building, built, deploying, deployed) answers 409.
    """
    if not notebook.can_transition(Notebook.Status.PARSED):
        raise IllegalTransition("Notebook", notebook.status, Notebook.Status.PARSED)
    try:
        parsed = parse_notebook(_content(notebook))
    except NotebookRejected as exc:
        _mark_failed(notebook, str(exc.detail), request)
        raise
    sources = generate_sources(parsed=parsed, filename=notebook.filename)
    with transaction.atomic():
        locked = Notebook.objects.select_for_update().get(pk=notebook.pk)
        locked.transition_to(Notebook.Status.PARSED)
        locked.code_cells_count = len(parsed.code_cells)
        locked.dependencies = parsed.dependencies
        locked.warnings = parsed.warnings
        locked.app_kind = parsed.app_kind
        locked.main_py = sources["main.py"]
        locked.requirements_txt = sources["requirements.txt"]
        locked.error_message = ""
        locked.parsed_at = timezone.now()
        locked.save()
        activity_record(
            user=notebook.owner,
            action="notebook_parsed",
            details=(
                f"Parsed {notebook.filename}: {locked.code_cells_count} code cells, "
                f"{len(parsed.dependencies)} dependencies, {parsed.app_kind} app"
            ),
            request=request,
            metadata={"notebook_id": notebook.pk, "app_kind": parsed.app_kind},
        )
    return locked


def notebook_replace_content(
    *, notebook: Notebook, content: bytes, filename: str | None = None, request: HttpRequest | None = None
) -> Notebook:
    """A new revision of the notebook (e.g. from a webhook): new file, parse results cleared.

    The status goes back to ``uploaded`` through the state machine (409 while building or
    deploying); 413 past the owner's ``max_notebook_bytes``; 400 for a name that is not ``.ipynb``.
    """
    name = clean_notebook_filename(filename) if filename else notebook.filename
    cap = notebook_size_cap(owner=notebook.owner)
    if len(content) > cap:
        raise too_large(cap)
    with transaction.atomic():
        locked = Notebook.objects.select_for_update().get(pk=notebook.pk)
        locked.transition_to(Notebook.Status.UPLOADED)
        old_file = locked.file.name
        locked.file.save(name, ContentFile(content), save=False)
        locked.filename, locked.name, locked.size_bytes = name, _name_of(name), len(content)
        locked.code_cells_count = 0
        locked.dependencies, locked.warnings = [], []
        locked.app_kind = locked.main_py = locked.requirements_txt = locked.error_message = ""
        locked.parsed_at = None
        locked.save()
        activity_record(
            user=locked.owner,
            action="notebook_replaced",
            details=f"New revision of {name}",
            request=request,
            metadata={"notebook_id": locked.pk},
        )
        storage = locked.file.storage
        if old_file and old_file != locked.file.name:
            transaction.on_commit(lambda: storage.delete(old_file))
    return locked


def notebook_delete(*, notebook: Notebook, request: HttpRequest | None = None) -> None:
    """Delete the notebook, its file, and (by cascade) its builds' and deployments' records.

    409 while a build or a deployment of it is in progress.
    """
    if notebook.status in (Notebook.Status.BUILDING, Notebook.Status.DEPLOYING):
        raise HangarError(
            f"Notebook is {notebook.status}; wait until that finishes before deleting it",
            error_code=ErrorCode.CONFLICT,
            status_code=409,
        )
    storage, file_name = notebook.file.storage, notebook.file.name
    with transaction.atomic():
        activity_record(
            user=notebook.owner,
            action="notebook_deleted",
            details=f"Deleted notebook {notebook.filename}",
            request=request,
            metadata={"notebook_id": notebook.pk},
        )
        notebook.delete()
        if file_name:
            transaction.on_commit(lambda: storage.delete(file_name))


def notebook_require_parsed(*, notebook: Notebook) -> None:
    """400 ``NOTEBOOK_NOT_PARSED`` unless the notebook has been parsed (builds call this)."""
    parsed = notebook.status in _PARSED_STATUSES or (notebook.status == Notebook.Status.FAILED and notebook.main_py)
    if not parsed or not notebook.main_py:
        raise HangarError(
            f"Notebook must be parsed first. Current status: {notebook.status}",
            error_code=ErrorCode.NOTEBOOK_NOT_PARSED,
            status_code=400,
        )


def notebook_write_sources(*, notebook: Notebook, dest: Path) -> None:
    """Write the app's files into ``dest``: main.py, requirements.txt, Dockerfile (+ app.py for Streamlit).

    Follows the run contract in :mod:`apps.notebooks.generate`. 400 ``NOTEBOOK_NOT_PARSED`` before
    a parse. The sources are generated again from the stored file, so they match ``main_py``.
    """
    notebook_require_parsed(notebook=notebook)
    parsed = parse_notebook(_content(notebook))
    dest.mkdir(parents=True, exist_ok=True)
    for name, text in generate_sources(parsed=parsed, filename=notebook.filename).items():
        (dest / name).write_text(text, encoding="utf-8")
