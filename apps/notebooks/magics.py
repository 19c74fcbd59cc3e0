"""IPython syntax in code cells turned into plain Python, the way Hangar runs notebooks.

The policy (the README repeats it):

- ``%pip install x==1.2``, ``!pip install x`` (also ``pip3``, ``python -m pip``, ``%conda``) add
  their requirements, pins kept, and leave the code.
- Display-only line magics (``%matplotlib``, ``%load_ext``, ``%timeit``, ``%config``, ...) are
  dropped; ``%time stmt`` keeps ``stmt``; ``%env A=B`` and ``%cd dir`` become ``os`` calls.
- ``!cmd`` becomes ``subprocess.run(cmd, shell=True, check=False)``; a command using IPython's
  ``{python}`` interpolation, or ``x = !cmd``, is commented out with a warning.
- ``%%bash``/``%%sh`` (and ``%%script bash|sh``) cells become one ``subprocess.run`` call;
  ``%%writefile [-a] f`` writes the file; ``%%time`` and ``%%capture`` keep their Python body.
  ``%%html``, ``%%javascript`` and any other cell magic are commented out with a warning.
- ``!streamlit run f.py`` (the usual Colab launch line) is removed: Hangar launches ``f.py``.
- Anything else IPython-only (unknown line magics, ``obj?`` help) is commented out with a warning.
"""

import ast
import re
import shlex
from dataclasses import dataclass, field

from packaging.requirements import InvalidRequirement, Requirement

# Line magics that only change how a notebook displays or times things: dropped silently.
DISPLAY_ONLY_MAGICS = frozenset(
    {
        "matplotlib",
        "load_ext",
        "reload_ext",
        "unload_ext",
        "autoreload",
        "aimport",
        "config",
        "timeit",
        "who",
        "whos",
        "who_ls",
        "lsmagic",
        "magic",
        "precision",
        "xmode",
        "colors",
        "pprint",
        "history",
        "notebook",
        "qtconsole",
        "autosave",
        "autocall",
        "automagic",
        "doctest_mode",
        "pdb",
        "reset",
        "clear",
        "cls",
    }
)
_PIP_MAGICS = frozenset({"pip", "pip3", "conda", "mamba"})
_SHELL_CELL_MAGICS = {"bash": "/bin/bash", "sh": None}
# pip options that take a value (the value is not a requirement).
_PIP_VALUE_OPTIONS = frozenset(
    {
        "-c",
        "--constraint",
        "-i",
        "--index-url",
        "--extra-index-url",
        "-f",
        "--find-links",
        "-t",
        "--target",
        "--trusted-host",
        "--prefix",
        "--root",
        "--platform",
        "--python-version",
        "--implementation",
        "--abi",
        "--src",
        "--upgrade-strategy",
        "--progress-bar",
        "--cache-dir",
        "--log",
        "--proxy",
        "--timeout",
        "--retries",
        "--only-binary",
        "--no-binary",
        "--config-settings",
        "-C",
        "--channel",
    }
)
_PIP_COMMAND = re.compile(
    r"^(?:(?:sudo\s+)?(?:python3?|\{sys\.executable\}|\S*/python3?)\s+-m\s+)?pip3?\s+(?P<rest>.*)$"
)
_STREAMLIT_RUN = re.compile(r"(?:^|[\s;&|(])streamlit\s+run\s+(?P<script>[^\s;&|)]+)")
_ASSIGNED_SHELL = re.compile(r"^\s*[A-Za-z_][\w.,\s\[\]]*=\s*[!%]")
_HELP = re.compile(r"^\s*(\?\??[\w.]+|[\w.]+\?\??)\s*$")
_QUOTES = "\"'"
_ENV_ASSIGN = re.compile(r"^(?P<key>[A-Za-z_]\w*)\s*[= ]\s*(?P<value>.*)$")


@dataclass
class CodeCell:
    """One code cell after translation. ``number`` is its 1-based position among all cells."""

    number: int
    source: str
    syntax_error: str | None = None


@dataclass
class Translation:
    """What translating a notebook's code cells produced."""

    cells: list[CodeCell] = field(default_factory=list)
    requirements: list[str] = field(default_factory=list)
    written_files: dict[str, str] = field(default_factory=dict)
    streamlit_script: str | None = None
    warnings: list[str] = field(default_factory=list)


def _comment_out(lines: list[str], indent: str = "") -> list[str]:
    return [f"{indent}# {line}" if line.strip() else line for line in lines]


class _CellTranslator:
    """Translates the cells of one notebook, collecting requirements and warnings as it goes."""

    def __init__(self) -> None:
        self.result = Translation()
        self.number = 0

    def warn(self, message: str) -> None:
        self.result.warnings.append(f"Cell {self.number}: {message}")

    # --- cells -----------------------------------------------------------------------------------

    def translate(self, number: int, source: str) -> CodeCell:
        self.number = number
        lines = source.splitlines()
        while lines and not lines[0].strip():
            lines.pop(0)
        if lines and lines[0].lstrip().startswith("%%"):
            text = self._cell_magic(lines[0].strip()[2:], lines[1:])
        else:
            text = self._lines(source)
        cell = CodeCell(number=number, source=text)
        try:
            ast.parse(text)
        except SyntaxError as exc:
            cell.syntax_error = f"line {exc.lineno}: {exc.msg}"
        return cell

    def _lines(self, source: str) -> str:
        try:
            ast.parse(source)
            return source  # plain Python: nothing to translate (and no risk inside strings)
        except SyntaxError:
            pass
        out: list[str] = []
        for line in source.splitlines():
            out.extend(self._line(line))
        return "\n".join(out)

    def _cell_magic(self, header: str, body: list[str]) -> str:
        name, _, args = header.partition(" ")
        args = args.strip()
        text = "\n".join(body)
        if name in ("time", "capture", "python", "python3"):
            return self._lines(text)
        if name == "script" and args.split()[:1] in (["bash"], ["sh"]) and len(args.split()) == 1:
            name, args = args, ""
        if name in _SHELL_CELL_MAGICS and not args:
            self.warn(f"%%{name} cell translated to subprocess.run(..., shell=True, check=False)")
            executable = _SHELL_CELL_MAGICS[name]
            extra = f", executable={executable!r}" if executable else ""
            return f"import subprocess\n\nsubprocess.run({text!r}, shell=True, check=False{extra})\n"
        if name == "writefile":
            return self._writefile(args, text)
        self.warn(f"%%{name} cell magic is not supported in an app; the cell is commented out")
        return "\n".join(_comment_out([f"%%{header}", *body]))

    def _writefile(self, args: str, text: str) -> str:
        try:
            parts = shlex.split(args)
        except ValueError:
            parts = []
        append = any(part in ("-a", "--append") for part in parts)
        names = [part for part in parts if not part.startswith("-")]
        if len(names) != 1 or "{" in names[0] or "$" in names[0]:
            self.warn("%%writefile needs one literal file name; the cell is commented out")
            return "\n".join(_comment_out([f"%%writefile {args}", *text.splitlines()]))
        path = _colab_path(names[0])
        content = text if text.endswith("\n") else text + "\n"
        self.result.written_files[path] = content
        self.warn(f"%%writefile {path} translated to writing the file at start-up")
        mode = "a" if append else "w"
        return (
            "import os\n\n"
            f"if os.path.dirname({path!r}):\n"
            f"    os.makedirs(os.path.dirname({path!r}), exist_ok=True)\n"
            f"with open({path!r}, {mode!r}, encoding='utf-8') as _hangar_file:\n"
            f"    _hangar_file.write({content!r})\n"
        )

    # --- lines -----------------------------------------------------------------------------------

    def _line(self, line: str) -> list[str]:
        stripped = line.lstrip()
        indent = line[: len(line) - len(stripped)]
        if stripped.startswith("!"):
            return self._shell(stripped[1:].strip(), indent, line)
        if stripped.startswith("%") and not stripped.startswith("%%"):
            return self._line_magic(stripped[1:].strip(), indent, line)
        if _ASSIGNED_SHELL.match(line) and not _parses(stripped):
            self.warn(f"{stripped!r} captures IPython output, which apps cannot do; commented out")
            return _removed(indent, line)
        if _HELP.match(line):
            return _removed(indent, line)
        return [line]

    def _shell(self, command: str, indent: str, line: str) -> list[str]:
        pip = _PIP_COMMAND.match(command)
        if pip:
            self._pip(pip.group("rest"))
            return _removed(indent, line)
        streamlit = _STREAMLIT_RUN.search(command)
        if streamlit:
            self.result.streamlit_script = _colab_path(streamlit.group("script"))
            self.warn(f"{line.strip()!r} removed: Hangar serves {self.result.streamlit_script} itself")
            return _removed(indent, line)
        if "{" in command or not command:
            self.warn(f"shell command {command!r} uses IPython interpolation; commented out")
            return _removed(indent, line)
        self.warn(f"shell command {command!r} translated to subprocess.run(..., shell=True, check=False)")
        return [f"{indent}import subprocess", f"{indent}subprocess.run({command!r}, shell=True, check=False)"]

    def _line_magic(self, text: str, indent: str, line: str) -> list[str]:
        name, _, args = text.partition(" ")
        args = args.strip()
        if name in _PIP_MAGICS:
            self._pip(args, conda=name in ("conda", "mamba"))
            return _removed(indent, line)
        if name in DISPLAY_ONLY_MAGICS:
            return _removed(indent, line)
        if name == "time" and args:
            return [f"{indent}{args}"]
        if name == "env":
            return self._env(args, indent, line)
        if name == "cd" and args and "{" not in args:
            return [f"{indent}import os", f"{indent}os.chdir({args.strip(_QUOTES)!r})"]
        if name == "pylab":
            self.warn("%pylab translated to 'import numpy as np' and 'import matplotlib.pyplot as plt'")
            return [f"{indent}import numpy as np", f"{indent}import matplotlib.pyplot as plt"]
        self.warn(f"%{name} is an IPython magic an app cannot run; commented out")
        return _removed(indent, line)

    def _env(self, args: str, indent: str, line: str) -> list[str]:
        match = _ENV_ASSIGN.match(args)
        if not args or not match:
            return _removed(indent, line)
        key, value = match.group("key"), match.group("value").strip()
        return [f"{indent}import os", f"{indent}os.environ[{key!r}] = {value!r}"]

    def _pip(self, rest: str, *, conda: bool = False) -> None:
        try:
            words = shlex.split(rest)
        except ValueError:
            self.warn(f"could not read the install command {rest!r}")
            return
        if not words or words[0] != "install":
            if words and words[0] == "uninstall":
                return
            self.warn(f"pip command {rest!r} ignored; only 'install' adds requirements")
            return
        skip_next = False
        for word in words[1:]:
            if skip_next:
                skip_next = False
                continue
            if word in ("-r", "--requirement", "-e", "--editable"):
                self.warn(f"'pip install {word} ...' cannot be followed; add those packages to the notebook")
                skip_next = True
                continue
            if word in _PIP_VALUE_OPTIONS:
                skip_next = True
                continue
            if word.startswith("-") or word in ("&&", ";", "|"):
                if word in ("&&", ";", "|"):
                    break
                continue
            if conda and "::" in word:
                word = word.split("::", 1)[1]
            if "{" in word or "$" in word:
                self.warn(f"requirement {word!r} uses interpolation; ignored")
                continue
            self._add_requirement(word, conda=conda)

    def _add_requirement(self, spec: str, *, conda: bool) -> None:
        if conda and "=" in spec and "==" not in spec and not any(op in spec for op in "<>!~"):
            spec = spec.replace("=", "==", 1)  # conda pins with a single '='
        if spec.lower() in ("pip", "setuptools", "wheel") or re.match(r"^(pip|setuptools|wheel)\W", spec.lower()):
            return
        if "://" in spec or spec.startswith("git+"):
            self.result.requirements.append(spec)
            return
        try:
            Requirement(spec)
        except InvalidRequirement:
            self.warn(f"{spec!r} is not a requirement pip understands; ignored")
            return
        self.result.requirements.append(spec)


def _colab_path(path: str) -> str:
    # Colab notebooks run in /content; the app runs in its sources folder, so the path is relative.
    return path.removeprefix("/content/") or path


def _parses(text: str) -> bool:
    try:
        ast.parse(text)
    except SyntaxError:
        return False
    return True


def _removed(indent: str, line: str) -> list[str]:
    # An indented line may be the only statement of its block: leave a ``pass`` there.
    return [f"{indent}pass  # {line.strip()}" if indent else f"# {line.strip()}"]


def translate_cells(cells: list[tuple[int, str]]) -> Translation:
    """Translate ``(number, source)`` code cells into Python; see the module docstring."""
    translator = _CellTranslator()
    for number, source in cells:
        translator.result.cells.append(translator.translate(number, source))
    return translator.result
