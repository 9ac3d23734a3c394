"""Joining a Ray cluster and leaving it: a local cluster started for the run, or an existing one at an address
(checked first, so an unreachable one is a one-line error rather than a long hang), with the workers' output kept
off the user's terminal."""

from __future__ import annotations

import logging
import socket

from ..errors import GraphcError

DEFAULT_PORT = 6379  # a Ray head's GCS port unless it was started with another


class ClusterError(GraphcError):
    """Ray is missing, a cluster cannot be reached, or a worker was lost."""


def ray_module():
    """Ray, imported; a ClusterError saying how to install it when it is not."""
    try:
        import ray
    except ImportError:
        raise ClusterError("data-parallel training runs on Ray, which is not installed: "
                           "pip install 'graphc[distributed]'") from None
    return ray


def connect(address: str | None, workers: int) -> bool:
    """Join the cluster at ``address``, or start a local one with a CPU per worker; returns whether this call
    started Ray here (then ``disconnect`` stops it). A process already connected is left as it is."""
    ray = ray_module()
    if ray.is_initialized():
        return False
    if address not in (None, "auto"):
        check_reachable(address)
    try:
        ray.init(address=address, num_cpus=workers if address is None else None, include_dashboard=False,
                 log_to_driver=False, logging_level=logging.ERROR, configure_logging=True)
    except (ConnectionError, RuntimeError, ValueError) as error:
        raise ClusterError(f"could not join the Ray cluster at {address or 'a new local cluster'}: "
                           f"{first_line(error)}") from None
    return True


def first_line(error: BaseException) -> str:
    """An error's message in one line (Ray's run over many), or its type's name when it has none."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def check_reachable(address: str, timeout: float = 5.0) -> None:
    """A ClusterError unless something accepts connections at ``address`` (``host:port``, ``ray://host:port``)."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host:
        host, port = port, str(DEFAULT_PORT)
    if not port.isdigit():
        raise ClusterError(f"a cluster address is host:port, not {address!r}")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise ClusterError(f"no Ray cluster is reachable at {address}: {reason}") from None


def disconnect(started: bool) -> None:
    """Leave the cluster; stop it (every process of it) when ``connect`` started it here."""
    if started:
        ray_module().shutdown()
