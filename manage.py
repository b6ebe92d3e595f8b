#!/usr/bin/env python
"""Django's manage.py; the same commands are available as ``yuexiu <command>``."""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))

if __name__ == "__main__":
    from yuexiu.cli import main

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yuexiu.settings")
    main()
