"""Tooling behind the Makefile: embedded PostgreSQL, AWS emulator, dev runner, packaging."""

import sys
from pathlib import Path

# The chalice command of the running interpreter's environment (chalice has no __main__).
CHALICE = str(Path(sys.executable).with_name("chalice"))
# `chalice local` with API Gateway's greedy path variables (see devtools/local.py).
CHALICE_LOCAL = [sys.executable, str(Path(__file__).with_name("local.py"))]
