#!/usr/bin/env python3
"""N SIGKILLs of a real server under load: acknowledged vs stored, lost, duplicated.

    python bench/kill.py [--kills 6] [--rate 100] [--with-lock] [--port 18211]

The same as `python bench/durability.py kill …` (see there).
"""
import runpy
import sys
from pathlib import Path

sys.argv[1:1] = ["kill"]
runpy.run_path(str(Path(__file__).with_name("durability.py")), run_name="__main__")
