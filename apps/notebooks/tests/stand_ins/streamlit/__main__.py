"""Stand-in for ``python -m streamlit run script [--flag value ...]``: runs the script once, then
serves what it was started with."""

import os
import runpy
import sys

from stand_in_server import serve

import streamlit

args = sys.argv[1:]
flags = dict(zip(args[2::2], args[3::2], strict=False))
runpy.run_path(args[1], run_name="__main__")
serve(
    int(flags["--server.port"]),
    {"command": args[:2], "flags": flags, "written": streamlit.WRITTEN, "pid": os.getpid(), "cwd": os.getcwd()},
)
