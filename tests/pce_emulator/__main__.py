"""Run by hand: `python -m tests.pce_emulator --port 8443 --api-key K --api-secret S`."""

from __future__ import annotations

import argparse
import os
import sys
import threading

from .server import PceEmulator


def main(argv: list[str] | None = None) -> int:
    """Serve until Ctrl-C; the secret comes from --api-secret or ILLUMIO_API_SECRET."""
    parser = argparse.ArgumentParser(prog="python -m tests.pce_emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8443)
    parser.add_argument("--org-id", type=int, default=1)
    parser.add_argument("--api-key", default=os.environ.get("ILLUMIO_API_KEY", "api_emulator"))
    parser.add_argument(
        "--api-secret",
        default=os.environ.get("ILLUMIO_API_SECRET"),
        help="API secret (default: $ILLUMIO_API_SECRET); never printed",
    )
    parser.add_argument("--verbose", action="store_true", help="log each request to stderr")
    args = parser.parse_args(argv)
    if not args.api_secret:
        parser.error("give --api-secret or set ILLUMIO_API_SECRET")
    emulator = PceEmulator(
        org_id=args.org_id,
        api_key=args.api_key,
        api_secret=args.api_secret,
        host=args.host,
        port=args.port,
        verbose=args.verbose,
    )
    emulator.start()
    print(f"PCE emulator serving {emulator.url}/api/v2 (org {args.org_id})", flush=True)
    print(
        f"credentials: api key {args.api_key!r}, secret as given (not shown); "
        f"ILLUMIO_PCE_URL={emulator.url}",
        flush=True,
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print("stopping", file=sys.stderr)
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
