"""Which PyPI packages a notebook needs, from its imports and its ``%pip install`` lines.

Imports are read from the AST of the translated cells (so magics are already gone): ``import a.b``
and ``from a import b`` count, relative imports do not. The standard library
(``sys.stdlib_module_names``) and the notebook's own modules (files it writes with ``%%writefile``,
names it defines at top level) are left out. Import names are mapped to distribution names
(``sklearn`` is ``scikit-learn``); requirements from ``%pip install`` keep their pins and win over
a bare import of the same package. The result is sorted and has one entry per package.
"""

import ast
import re
import sys
from collections.abc import Iterable
from pathlib import PurePosixPath

from packaging.requirements import InvalidRequirement, Requirement

# Import name (or dotted prefix) -> PyPI distribution. Names that equal their distribution
# (pandas, numpy, requests, ...) need no entry.
PYPI_NAMES = {
    "sklearn": "scikit-learn",
    "skimage": "scikit-image",
    "cv2": "opencv-python",
    "PIL": "Pillow",
    "yaml": "PyYAML",
    "bs4": "beautifulsoup4",
    "Crypto": "pycryptodome",
    "Cryptodome": "pycryptodomex",
    "dateutil": "python-dateutil",
    "dotenv": "python-dotenv",
    "jwt": "PyJWT",
    "jose": "python-jose",
    "attr": "attrs",
    "OpenSSL": "pyOpenSSL",
    "serial": "pyserial",
    "usb": "pyusb",
    "magic": "python-magic",
    "docx": "python-docx",
    "pptx": "python-pptx",
    "fitz": "PyMuPDF",
    "telegram": "python-telegram-bot",
    "discord": "discord.py",
    "googleapiclient": "google-api-python-client",
    "google_auth_oauthlib": "google-auth-oauthlib",
    "google.auth": "google-auth",
    "google.oauth2": "google-auth",
    "google.protobuf": "protobuf",
    "google.api_core": "google-api-core",
    "google.genai": "google-genai",
    "google.generativeai": "google-generativeai",
    "google.cloud.bigquery": "google-cloud-bigquery",
    "MySQLdb": "mysqlclient",
    "psycopg2": "psycopg2-binary",
    "pymysql": "PyMySQL",
    "git": "GitPython",
    "github": "PyGithub",
    "gi": "PyGObject",
    "wx": "wxPython",
    "win32api": "pywin32",
    "win32com": "pywin32",
    "zmq": "pyzmq",
    "Bio": "biopython",
    "nacl": "PyNaCl",
    "kafka": "kafka-python",
    "websocket": "websocket-client",
    "socketio": "python-socketio",
    "engineio": "python-engineio",
    "slugify": "python-slugify",
    "multipart": "python-multipart",
    "markdown": "Markdown",
    "mpl_toolkits": "matplotlib",
    "pylab": "matplotlib",
    "IPython": "ipython",
    "imblearn": "imbalanced-learn",
    "umap": "umap-learn",
    "faiss": "faiss-cpu",
    "surprise": "scikit-surprise",
    "sentence_transformers": "sentence-transformers",
    "tensorflow_hub": "tensorflow-hub",
    "llama_cpp": "llama-cpp-python",
    "snowflake.connector": "snowflake-connector-python",
    "speech_recognition": "SpeechRecognition",
    "dns": "dnspython",
    "ldap": "python-ldap",
    "memcache": "python-memcached",
    "Xlib": "python-xlib",
    "osgeo": "GDAL",
    "pkg_resources": "setuptools",
    "pyximport": "Cython",
    "absl": "absl-py",
    "pandas_datareader": "pandas-datareader",
    "dash_bootstrap_components": "dash-bootstrap-components",
    "tabula": "tabula-py",
    "docx2pdf": "docx2pdf",
    "pytesseract": "pytesseract",
    "Levenshtein": "Levenshtein",
    "lxml": "lxml",
    "bson": "pymongo",
    "cairo": "pycairo",
    "pygments": "Pygments",
    "jinja2": "Jinja2",
    "markupsafe": "MarkupSafe",
    "sqlalchemy": "SQLAlchemy",
    "flask_sqlalchemy": "Flask-SQLAlchemy",
    "flask_cors": "flask-cors",
    "flask_login": "Flask-Login",
    "flask_wtf": "Flask-WTF",
    "ruamel": "ruamel.yaml",
    "tf_keras": "tf-keras",
    "plotly_express": "plotly-express",
}
# Namespace packages whose unlisted sub-packages follow a naming rule (google.cloud.storage is
# google-cloud-storage, azure.storage.blob is azure-storage-blob).
_NAMESPACE_RULES = (("google.cloud.", 1), ("azure.", 2))
# Imports that no pip install can satisfy (they exist only inside a hosted notebook service).
NOT_INSTALLABLE = frozenset({"google.colab", "google", "azure", "kaggle_secrets", "kaggle_datasets", "js", "pyodide"})


def canonical_name(name: str) -> str:
    """PEP 503's normalised form: ``Scikit_Learn`` and ``scikit-learn`` are one package."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pypi_name(module: str) -> str | None:
    """The distribution that provides ``module`` (a dotted import path), or None if none can."""
    parts = module.split(".")
    for length in range(len(parts), 0, -1):
        prefix = ".".join(parts[:length])
        if prefix in PYPI_NAMES:
            return PYPI_NAMES[prefix]
    for namespace, depth in _NAMESPACE_RULES:
        if module.startswith(namespace):
            rest = module[len(namespace) :].split(".")[:depth]
            return namespace.replace(".", "-") + "-".join(rest).replace("_", "-")
    if parts[0] in ("google", "azure") or module in NOT_INSTALLABLE or parts[0] in NOT_INSTALLABLE:
        return None
    return parts[0]


def imported_modules(tree: ast.AST) -> set[str]:
    """Absolute imports in ``tree``: ``a.b`` for ``import a.b``; ``a.b`` for ``from a import b``."""
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.update(f"{node.module}.{alias.name}" if alias.name != "*" else node.module for alias in node.names)
    return modules


def defined_names(tree: ast.Module) -> set[str]:
    """Names the module binds at top level with ``def``, ``class`` or a plain assignment."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
    return names


def local_module_names(written_files: Iterable[str]) -> set[str]:
    """Module names that files the notebook writes provide (``pkg/mod.py`` provides ``pkg``)."""
    names = set()
    for path in written_files:
        parts = PurePosixPath(path.replace("\\", "/")).parts
        if parts and parts[0] not in ("/", ".", ".."):
            first = parts[0]
            names.add(first[:-3] if len(parts) == 1 and first.endswith(".py") else first)
    return names


def _requirement_key(spec: str) -> str:
    try:
        return canonical_name(Requirement(spec).name)
    except InvalidRequirement:
        # A URL: use the #egg= name or the repository's last path component.
        egg = re.search(r"#egg=([\w.-]+)", spec)
        tail = egg.group(1) if egg else spec.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
        return canonical_name(tail.split("@")[0])


def detect_dependencies(
    *, trees: Iterable[ast.Module], pip_requirements: Iterable[str] = (), local_modules: Iterable[str] = ()
) -> list[str]:
    """The sorted, de-duplicated requirements of the code in ``trees``; see the module docstring."""
    trees = list(trees)
    own = set(local_modules)
    for tree in trees:
        own |= defined_names(tree)
    by_key: dict[str, str] = {}
    for spec in pip_requirements:
        by_key.setdefault(_requirement_key(spec), spec)
    for tree in trees:
        for module in imported_modules(tree):
            top = module.split(".")[0]
            if top in sys.stdlib_module_names or top in own or top.startswith("_"):
                continue
            distribution = pypi_name(module)
            if distribution:
                by_key.setdefault(canonical_name(distribution), distribution)
    return [by_key[key] for key in sorted(by_key)]


def imported_top_levels(trees: Iterable[ast.Module]) -> set[str]:
    """The top-level package names the code imports (for app detection)."""
    return {module.split(".")[0] for tree in trees for module in imported_modules(tree)}
