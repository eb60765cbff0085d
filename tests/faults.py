"""A TCP proxy in the test process that puts faults between the code and its database.

`FaultProxy` listens on a random loopback port and relays to the real server (a TCP address
or a Unix socket) while its mode is `FORWARD`. Switched to `HANG`, it behaves like a database
that accepts connections and never answers: new connections are accepted and held open with
nothing ever sent back, and the connections already relayed stop moving bytes either way.
Switched to `DROP`, every connection, new or relayed, is reset at once (RST). Switched back to
`FORWARD`, it relays again: connections relayed before resume, the ones accepted while it hung
are reset.

Every thread it starts polls its socket with a short timeout and ends when the proxy stops;
`stop()` (or leaving the `with` block) closes every socket and joins every thread.
"""

from __future__ import annotations

import select
import socket
import struct
import threading
import time
from types import TracebackType

FORWARD = "forward"
HANG = "hang"
DROP = "drop"
MODES = (FORWARD, HANG, DROP)
POLL = 0.05  # s: how often a thread looks at the mode and the stop flag
JOIN = 5.0  # s: the most `stop()` waits for one thread


def _reset(sock: socket.socket) -> None:
    """Close `sock` with a TCP reset instead of an orderly FIN (SO_LINGER 0)."""
    try:
        if sock.family != socket.AF_UNIX:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


class FaultProxy:
    def __init__(self, upstream: tuple[str, int] | str) -> None:
        self.upstream = upstream  # (host, port), or the path of a Unix socket
        self.accepted = 0  # connections accepted, in any mode
        self._mode = FORWARD
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(POLL)
        self.port: int = self._listener.getsockname()[1]

    # -- control ---------------------------------------------------------------------------

    @property
    def mode(self) -> str:
        return self._mode

    def set_mode(self, mode: str) -> None:
        assert mode in MODES, mode
        self._mode = mode

    def start(self) -> FaultProxy:
        self._spawn(self._accept_loop, "fault-proxy-accept")
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._listener.close()
        with self._lock:
            sockets = list(self._sockets)
            self._sockets.clear()
        for sock in sockets:
            _reset(sock)
        for thread in self._threads:
            thread.join(JOIN)
        alive = [t.name for t in self._threads if t.is_alive()]
        assert not alive, f"fault proxy threads still running: {alive}"

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- inside ----------------------------------------------------------------------------

    def _spawn(self, target: object, name: str, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)  # type: ignore[arg-type]
        self._threads.append(thread)
        thread.start()

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)

    def _close(self, *socks: socket.socket | None, reset: bool = False) -> None:
        for sock in socks:
            if sock is None:
                continue
            with self._lock:
                self._sockets.discard(sock)
            if reset:
                _reset(sock)
            else:
                sock.close()

    def _connect_upstream(self) -> socket.socket:
        if isinstance(self.upstream, str):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(JOIN)
            sock.connect(self.upstream)
        else:
            sock = socket.create_connection(self.upstream, timeout=JOIN)
        sock.settimeout(None)
        return sock

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # the listener was closed by stop()
            self.accepted += 1
            client.settimeout(None)
            mode = self._mode
            if mode == DROP:
                _reset(client)
                continue
            self._track(client)
            if mode == HANG:
                self._spawn(self._hold, "fault-proxy-hold", client)
                continue
            try:
                upstream = self._connect_upstream()
            except OSError:
                self._close(client, reset=True)
                continue
            self._track(upstream)
            self._spawn(self._relay, "fault-proxy-relay", client, upstream)

    def _hold(self, client: socket.socket) -> None:
        """A connection accepted while hanging: never read, never answered, until the mode
        changes (then reset) or the proxy stops."""
        while not self._stopped.is_set() and self._mode == HANG:
            time.sleep(POLL)
        self._close(client, reset=True)

    def _relay(self, client: socket.socket, upstream: socket.socket) -> None:
        peers = {client: upstream, upstream: client}
        try:
            while not self._stopped.is_set():
                mode = self._mode
                if mode == DROP:
                    self._close(client, upstream, reset=True)
                    return
                if mode == HANG:
                    time.sleep(POLL)  # bytes wait in the kernel buffers, nothing moves
                    continue
                readable, _, _ = select.select([client, upstream], [], [], POLL)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        self._close(client, upstream)
                        return
                    peers[sock].sendall(data)
        except (OSError, ValueError):
            pass  # a socket closed under us: by stop(), or by the peer with a reset
        self._close(client, upstream)
