"""Which Ray cluster a batch job or a server runs on, and connecting to it.

``--ray`` takes an address as Ray does: ``local`` starts a cluster inside this process (every
listener on 127.0.0.1, no dashboard), ``auto`` joins the cluster last started on this machine,
``HOST:PORT`` joins a cluster's GCS and ``ray://HOST:PORT`` goes through Ray Client. Without
a value, ``$RAY_ADDRESS`` is used, else ``local``.

>>> RayTarget.parse("local").local
True
>>> t = RayTarget.parse("ray://10.0.0.5:10001")
>>> t.address, t.host, t.port, t.local
('ray://10.0.0.5:10001', '10.0.0.5', 10001, False)
>>> RayTarget.parse("127.0.0.1:6379").loopback
True
"""

from __future__ import annotations

import faulthandler
import os
import socket
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from re3g.errors import Re3GError

INSTALL_HINT = "pip install -e '.[scale]'  (or `make setup-scale`)"
LOOPBACK = "127.0.0.1"
PROBE_TIMEOUT_S = 5.0
LOCAL = "local"
LOCAL_NAMES = ("127.0.0.1", "localhost", "::1")
SINGLE_MACHINE_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


def require_ray() -> ModuleType:
    """The ``ray`` module, or a Re3GError saying how to install the ``scale`` extra."""
    try:
        import ray
    except ImportError as exc:
        raise Re3GError(f"--ray needs Ray: {INSTALL_HINT}") from exc
    return ray


@dataclass(frozen=True)
class RayTarget:
    """A Ray cluster address, parsed: ``local``, ``auto``, ``HOST:PORT`` or
    ``ray://HOST:PORT``.

    >>> RayTarget.parse(None, environ={}).address
    'local'
    >>> RayTarget.parse(None, environ={"RAY_ADDRESS": "10.1.2.3:6379"}).port
    6379
    """

    address: str
    host: str | None = None
    port: int | None = None

    @classmethod
    def parse(cls, value: str | None, environ: dict[str, str] | None = None) -> RayTarget:
        """The target for ``--ray VALUE``: ``None`` or "" means ``$RAY_ADDRESS``, else local."""
        env = os.environ if environ is None else environ
        address = (value or env.get("RAY_ADDRESS") or LOCAL).strip()
        if address in (LOCAL, "auto"):
            return cls(address)
        hostport = address.removeprefix("ray://")
        host, sep, port = hostport.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise Re3GError(f"Ray address {address!r}: expected local, auto, HOST:PORT or "
                            "ray://HOST:PORT")
        return cls(address, host.strip("[]"), int(port))

    @property
    def local(self) -> bool:
        """Whether this starts a cluster in this process."""
        return self.address == LOCAL

    @property
    def loopback(self) -> bool:
        """Whether the cluster is (or will be) on this machine's loopback interface."""
        return self.local or self.host in LOCAL_NAMES

    def probe(self, timeout: float = PROBE_TIMEOUT_S) -> None:
        """Fail fast, naming the address, when nothing accepts connections there (Ray itself
        retries for a minute before it gives up)."""
        if self.host is None:
            return
        try:
            with socket.create_connection((self.host, self.port), timeout=timeout):
                pass
        except OSError as exc:
            raise Re3GError(f"cannot reach the Ray cluster at {self.address}: "
                            f"{exc.strerror or exc} (is `ray start --head` running there?)"
                            ) from exc



def loopback_init_options(num_cpus: int | None = None, num_gpus: int | None = None
                          ) -> dict[str, Any]:
    """``ray.init`` options of a local cluster with every listener on 127.0.0.1 (GCS, raylet,
    object manager, workers, the dashboard agent) and no dashboard.

    >>> loopback_init_options(2)["_node_ip_address"]
    '127.0.0.1'
    """
    opts: dict[str, Any] = {"address": LOCAL, "_node_ip_address": LOOPBACK,
                            "include_dashboard": False, "log_to_driver": False,
                            "configure_logging": False}
    if num_cpus is not None:
        opts["num_cpus"] = num_cpus
    if num_gpus is not None:
        opts["num_gpus"] = num_gpus
    return opts


def connect(value: str | None = None, *, num_cpus: int | None = None) -> RayTarget:
    """Start (``local``) or join the Ray cluster ``value`` names (see the module doc); a
    cluster this process is already connected to is reused. An address nothing answers on
    raises Re3GError naming it, before anything else happens."""
    target = RayTarget.parse(value)
    target.probe()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray = require_ray()
    if ray.is_initialized():
        return target
    if target.loopback:
        single_machine()
    had_faulthandler = faulthandler.is_enabled()
    try:
        if target.local:
            ray.init(**loopback_init_options(num_cpus))
        else:
            extra: dict[str, Any] = {"_node_ip_address": LOOPBACK} if target.loopback else {}
            ray.init(address=target.address, log_to_driver=False, configure_logging=False,
                     **extra)
    except (ConnectionError, TimeoutError, RuntimeError, ValueError) as exc:
        raise Re3GError(f"cannot join the Ray cluster at {target.address}: "
                        f"{type(exc).__name__}: {exc}") from exc
    finally:
        if not had_faulthandler and faulthandler.is_enabled():
            # ray.init turns Python's fault handler on in the driver; it would then take the
            # SIGSEGV that the JVM (BM25 search) raises on purpose for its own use and kill
            # the process ("Fatal Python error: Segmentation fault"). Disabling it gives the
            # signal back to the handler it replaced (the JVM's, when the JVM is running).
            faulthandler.disable()
    return target


def single_machine() -> None:
    """Put Ray in its single-machine mode, in which every server it starts (GCS, raylet,
    object manager, workers, agents) listens on 127.0.0.1.

    ``ray.init(_node_ip_address="127.0.0.1")`` alone is not enough: Ray replaces a loopback
    node address by the machine's outward one (``services.resolve_ip_for_localhost``) unless
    ``ray_constants.ENABLE_RAY_CLUSTER`` is off, and its servers then listen on every
    interface. That flag is read from ``$RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER`` when ray is
    imported, so it is set here both in the environment (for the processes Ray starts) and
    on the imported module (for this one, which may have imported ray already).
    """
    from ray._private import ray_constants

    os.environ[SINGLE_MACHINE_ENV] = "0"
    ray_constants.ENABLE_RAY_CLUSTER = False


def shutdown() -> None:
    """Leave the cluster (and stop it when this process started it)."""
    ray = require_ray()
    if ray.is_initialized():
        ray.shutdown()


def require_connected() -> ModuleType:
    """The ``ray`` module once :func:`connect` has run (Ray would otherwise start a cluster
    of its own, with listeners on every interface)."""
    ray = require_ray()
    if not ray.is_initialized():
        raise Re3GError("not connected to a Ray cluster: call re3g.scale.cluster.connect() "
                        "first")
    return ray


def gpus() -> int:
    """GPUs the connected cluster has (0 when none)."""
    ray = require_connected()
    return int(ray.cluster_resources().get("GPU", 0))


def cpus() -> int:
    """CPUs the connected cluster has (at least 1)."""
    ray = require_connected()
    return max(1, int(ray.cluster_resources().get("CPU", 1)))
