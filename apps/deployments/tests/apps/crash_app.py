"""An app that fails at start, as a notebook with a missing dependency would."""

import sys

print("loading the model...", flush=True)
print("ModuleNotFoundError: No module named 'imaginary_dependency'", file=sys.stderr, flush=True)
sys.exit(3)
