"""Checking that the ports a process needs are free, before starting anything."""

import errno
import socket


def is_port_busy(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno in (errno.EADDRINUSE, errno.EACCES):
                return True
            raise
    return False


def busy_ports_message(host: str, ports: dict[str, int]) -> str | None:
    """A French sentence naming each busy port and the flag that moves it, or None."""
    busy = [f"{port} ({flag})" for flag, port in ports.items() if is_port_busy(host, port)]
    if not busy:
        return None
    return (
        "Port(s) déjà utilisé(s) : "
        + ", ".join(busy)
        + ". Un autre `tocsin dev` tourne peut-être ; sinon choisissez d'autres ports."
    )


def free_port(host: str = "127.0.0.1") -> int:
    """A port the system had free a moment ago (for local sandboxes)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])
