"""``python -m kubeemulator``: run the emulator in the foreground until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from types import FrameType

from .discovery import GIT_VERSION
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
    parser.add_argument(
        "--bare",
        action="store_true",
        help="start empty instead of as an installed cluster (no cert-manager, classes, DNS or namespaces)",
    )
    parser.add_argument(
        "--namespace-drain-delay",
        type=float,
        default=1.0,
        help="seconds a deleted namespace stays Terminating before it and its content are gone (default 1)",
    )
    parser.add_argument(
        "--watch-history",
        type=int,
        default=10_000,
        help="changes a watch can resume from; older resourceVersions get 410 Gone (default 10000)",
    )
    parser.add_argument(
        "--bookmark-interval",
        type=float,
        default=1.0,
        help="seconds between BOOKMARK events on idle watches that ask for them (default 1)",
    )
    parser.add_argument(
        "--kubernetes-version",
        default=GIT_VERSION,
        help=f"the gitVersion /version answers (default {GIT_VERSION})",
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
        emulator = KubeEmulator(
            args.host,
            args.port,
            ready_delay=args.ready_delay,
            token=args.token,
            bare=args.bare,
            namespace_drain_delay=args.namespace_drain_delay,
            watch_history=args.watch_history,
            bookmark_interval=args.bookmark_interval,
            kubernetes_version=args.kubernetes_version,
        ).start()
    except ValueError as error:
        parser.error(str(error))
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
