"""`python -m chat.demo`: the fake upstream on a port of its own (quickstart --demo, bench/relay.py)."""

import sys

from chat.demo.server import main

sys.exit(main())
