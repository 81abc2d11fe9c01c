"""Tooling behind the Makefile: embedded PostgreSQL, AWS emulator, dev runner, packaging."""

import sys
from pathlib import Path

# The chalice command of the running interpreter's environment (chalice has no __main__).
CHALICE = str(Path(sys.executable).with_name("chalice"))
