"""`python -m tenantguard`: the same command line as the `tenantguard` script."""

from __future__ import annotations

import sys

from tenantguard.cli import main

if __name__ == "__main__":
    sys.exit(main())
