"""``python -m kubeemulator``: run the emulator in the foreground until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from types import FrameType

from .emulator import KubeEmulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kubeemulator", description="Kubernetes API server emulator."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8081, help="port to listen on, 0 for any (default 8081)")
    parser.add_argument(
        "--ready-delay", type=float, default=0.0, help="seconds before workloads become ready (default 0)"
    )
    parser.add_argument(
        "--token", default=None, help="the only bearer token accepted (default: no authentication)"
    )
    parser.add_argument("--quiet", action="store_true", help="do not log one line per request")
    args = parser.parse_args(argv)

    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logger = logging.getLogger("kubeemulator")
    try:
        emulator = KubeEmulator(args.host, args.port, ready_delay=args.ready_delay, token=args.token).start()
    except OSError as error:
        logger.error("cannot listen on %s:%s: %s", args.host, args.port, error)
        return 2
    logger.warning("Kubernetes API emulator listening on %s", emulator.url)
    try:
        while not stopping.wait(0.5):
            pass
    finally:
        emulator.stop()
        logger.warning("Kubernetes API emulator stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
