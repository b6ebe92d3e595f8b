"""The ``yuexiu`` console command: Django's management commands under the platform's name.

yuexiu migrate
yuexiu setup                      # reference data, demo accounts, schedules (idempotent)
yuexiu serve 127.0.0.1:8000       # the web server and the background worker (what `make run` starts)
yuexiu workdays add 2025-01-20 10 # prints 2025-02-08
yuexiu audit verify               # checks the audit log's SM3 hash chain, prints its head
yuexiu rotate-keys                # re-seals personal numbers under DATA_ENCRYPTION_KEY_VERSION
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType

# Commands that run until stopped. Ctrl+C (SIGINT) or SIGTERM stops them quietly with status 0, also
# while Django is still starting (otherwise a signal then ends in a traceback or a kill by signal).
# ``qcluster`` and ``serve`` replace these handlers with their own once started; ``runserver`` keeps them.
LONG_RUNNING = frozenset({"qcluster", "runserver", "serve"})


def _stop_quietly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def _refused_settings_as_checks() -> None:
    """``yuexiu prod-check`` with settings that refuse to load (production mode with unsafe values):
    print each reason as a failed check, as the command would, and exit with status 1."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        settings.INSTALLED_APPS  # noqa: B018 - loads the settings module
    except ImproperlyConfigured as error:
        reasons = str(error).split("：", 1)[-1].split("；")
        for reason in reasons:
            print(f"✗ 配置安全：{reason}")
        print(f"生产环境检查未通过：配置安全有 {len(reasons)} 项问题，平台拒绝启动")
        raise SystemExit(1) from None


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in LONG_RUNNING:
        signal.signal(signal.SIGINT, _stop_quietly)
        signal.signal(signal.SIGTERM, _stop_quietly)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yuexiu.settings")
    if sys.argv[1:2] == ["prod-check"]:
        _refused_settings_as_checks()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["yuexiu", *sys.argv[1:]])


if __name__ == "__main__":
    main()
