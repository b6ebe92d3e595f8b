"""The ``yuexiu`` console command: Django's management commands under the platform's name.

yuexiu migrate
yuexiu setup                      # reference data, demo accounts, schedules (idempotent)
yuexiu workdays add 2025-01-20 10 # prints 2025-02-08
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yuexiu.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["yuexiu", *sys.argv[1:]])


if __name__ == "__main__":
    main()
