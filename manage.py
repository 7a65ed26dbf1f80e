#!/usr/bin/env python
"""Django's command-line utility for TokenOff Chat."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tokenoff_site.settings")
    # The quickstart is the laptop path: it runs with DJANGO_DEBUG on unless told otherwise (PROTOCOL.md).
    # So are the translation commands (docs/i18n.md): they use no secret, so the development ones do.
    if sys.argv[1:2] in (["quickstart"], ["makemessages"], ["compilemessages"]):
        os.environ.setdefault("DJANGO_DEBUG", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
