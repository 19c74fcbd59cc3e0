"""004's five default templates, exactly as documented, with their installation commands."""

from typing import Any

_STANDARD = {"cpu": "500m", "memory": "1Gi", "storage": "10Gi"}
_BOTH_RUNTIMES = ["local", "kubernetes"]

DEFAULT_TEMPLATES: list[dict[str, Any]] = [
    {
        "name": "python-3.11",
        "display_name": "Python 3.11",
        "description": "Python 3.11 with pip and virtualenv; Flask and Django support.",
        "category": "programming_language",
        "tags": ["python", "pip", "virtualenv", "flask", "django"],
        "docker_image": "python:3.11-slim",
        "default_port": 8080,
        "default_resources": dict(_STANDARD),
        "environment_variables": {"PYTHONUNBUFFERED": "1"},
        "startup_commands": ["python3 --version"],
        "documentation_url": "https://docs.python.org/3.11/",
    },
    {
        "name": "nodejs-18",
        "display_name": "Node.js 18 LTS",
        "description": "Node.js 18 LTS with npm and yarn; Express, React and Vue support.",
        "category": "programming_language",
        "tags": ["javascript", "node", "npm", "yarn", "express", "react", "vue"],
        "docker_image": "node:18-slim",
        "default_port": 3000,
        "default_resources": dict(_STANDARD),
        "environment_variables": {"NODE_ENV": "development"},
        "startup_commands": ["node --version"],
        "documentation_url": "https://nodejs.org/docs/latest-v18.x/api/",
    },
    {
        "name": "golang-1.21",
        "display_name": "Go 1.21",
        "description": "The Go 1.21 compiler, with air for hot reload.",
        "category": "programming_language",
        "tags": ["go", "golang", "air"],
        "docker_image": "golang:1.21-alpine",
        "default_port": 8080,
        "default_resources": dict(_STANDARD),
        "environment_variables": {"CGO_ENABLED": "0"},
        "startup_commands": ["go version"],
        "documentation_url": "https://go.dev/doc/",
    },
    {
        "name": "rust-latest",
        "display_name": "Rust Latest",
        "description": "rustc and cargo, with cargo-watch.",
        "category": "programming_language",
        "tags": ["rust", "cargo", "cargo-watch"],
        "docker_image": "rust:latest",
        "default_port": 8080,
        "default_resources": {"cpu": "1000m", "memory": "2Gi", "storage": "15Gi"},
        "environment_variables": {"CARGO_TERM_COLOR": "always"},
        "startup_commands": ["rustc --version", "cargo --version"],
        "documentation_url": "https://doc.rust-lang.org/",
    },
    {
        "name": "ubuntu-22.04",
        "display_name": "Ubuntu 22.04 LTS",
        "description": "Ubuntu 22.04 LTS with essential development tools.",
        "category": "operating_system",
        "tags": ["ubuntu", "linux", "bash"],
        "docker_image": "ubuntu:22.04",
        "default_port": 8080,
        "default_resources": dict(_STANDARD),
        "environment_variables": {},
        "startup_commands": ["uname -sr"],
        "documentation_url": "https://help.ubuntu.com/22.04/",
    },
]

for _template in DEFAULT_TEMPLATES:
    _template.setdefault("runtimes", list(_BOTH_RUNTIMES))
    _template.setdefault("network_policy", "egress")
    _template.setdefault("status", "active")
    _template.setdefault("version", "1.0.0")
