"""A damaged spool against the real broker: the handler keeps delivering, says so once, recovers (R8).

Each damage is real: unreadable orphan files, a spool path that is a file, a spool directory
whose parent is a file (ENOTDIR for every write, which stops root too, unlike permission
bits), and a full disk (a small tmpfs, mounted as root), before the handler starts and while
it writes.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest

from logmonitor.handler import KafkaLogHandler
from tests.fixtures.traffic import create_topic, read_topic

RECORDS = 50
RETRY = 0.5  # seconds between the handler's attempts to use the disk again


@pytest.fixture
def topic(kafka_bootstrap: str, unique_name: Callable[[str], str]) -> str:
    """A fresh topic for the test's records."""
    name = unique_name("spool-logs")
    asyncio.run(create_topic(kafka_bootstrap, name))
    return name


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB tmpfs, unmounted at the end."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount_point)], check=True)
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=True)


def fill(disk: Path) -> Path:
    """Write a file until the disk is full; the file."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_CREAT | os.O_WRONLY, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as error:
        assert error.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return filler


def send(handler: KafkaLogHandler, first: int = 0) -> None:
    """Log ``RECORDS`` errors through ``handler`` and wait until they are handed on."""
    log = logging.getLogger(f"hostile.spool.{id(handler)}")
    log.propagate = False
    log.addHandler(handler)
    try:
        for i in range(first, first + RECORDS):
            log.error("payment %d failed", i)
        handler.flush(30)
    finally:
        log.removeHandler(handler)


def delivered(bootstrap: str, topic: str, expected: int) -> list[str]:
    """The messages on ``topic``."""
    records = asyncio.run(read_topic(bootstrap, topic, expected=expected, timeout=30))
    return [orjson.loads(record.value)["message"] for record in records]


def wait_for_ok(handler: KafkaLogHandler) -> None:
    deadline = time.monotonic() + RETRY + 10  # generous: one retry period plus slack
    while handler.spool_state != "ok" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert handler.spool_state == "ok"


def announcements(capsys: pytest.CaptureFixture[str]) -> list[str]:
    lines = [line for line in capsys.readouterr().err.splitlines() if line]
    assert "Traceback" not in "\n".join(lines)
    return lines


def handler_for(bootstrap: str, topic: str, spool_dir: Path, **options: object) -> KafkaLogHandler:
    """A handler without breadcrumbs: each of these errors would carry the 30 before it, 30 times the bytes
    that the tests size the 256 KiB disk for."""
    return KafkaLogHandler(bootstrap, service="payment", host="host-1", topic=topic, spool_dir=spool_dir,
                           spool_retry_interval=RETRY, breadcrumbs=0, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("content", [b"", os.urandom(3000)], ids=["empty", "garbage"])
def test_an_unreadable_orphan_spool_is_quarantined_and_delivery_goes_on(
        kafka_bootstrap: str, topic: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes) -> None:
    spool_dir = tmp_path / "spool"
    spool_dir.mkdir()
    (spool_dir / "4242-0badf00d.lock").touch()  # what a kill while the spool was created leaves
    (spool_dir / "4242-0badf00d.db").write_bytes(content)
    handler = handler_for(kafka_bootstrap, topic, spool_dir)
    try:
        send(handler)
        assert handler.spool_state == "ok", "the spool itself works; only the orphan is set aside"
        [quarantined] = handler.spool_quarantined
    finally:
        handler.close()
    assert delivered(kafka_bootstrap, topic, RECORDS) == [f"payment {i} failed" for i in range(RECORDS)]
    assert quarantined.name.startswith("4242-0badf00d.db.corrupt-") and quarantined.read_bytes() == content
    [line] = announcements(capsys)
    assert f"moved to {quarantined}" in line


def _path_is_a_file(tmp_path: Path) -> tuple[Path, Callable[[], None]]:
    spool_dir = tmp_path / "spool"
    spool_dir.write_text("a file where the spool directory should be")
    return spool_dir, spool_dir.unlink


def _parent_is_a_file(tmp_path: Path) -> tuple[Path, Callable[[], None]]:
    parent = tmp_path / "cache"
    parent.write_text("a file where a directory should be")
    return parent / "spool", parent.unlink


@pytest.mark.parametrize("damage", [_path_is_a_file, _parent_is_a_file], ids=["path-is-a-file", "not-a-directory"])
def test_an_unusable_spool_path_means_memory_only_until_it_is_fixed(
        kafka_bootstrap: str, topic: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        damage: Callable[[Path], tuple[Path, Callable[[], None]]]) -> None:
    spool_dir, repair = damage(tmp_path)
    handler = handler_for(kafka_bootstrap, topic, spool_dir)
    try:
        send(handler)
        assert handler.spool_state == f"memory-only: Not a directory: {spool_dir}"
        assert handler.internal_errors == 0
        assert delivered(kafka_bootstrap, topic, RECORDS) == [f"payment {i} failed" for i in range(RECORDS)]
        [line] = announcements(capsys)
        assert "cannot be used (Not a directory" in line and "memory only" in line

        repair()
        wait_for_ok(handler)
        assert spool_dir.is_dir()
        send(handler, first=RECORDS)
    finally:
        handler.close()
    assert len(delivered(kafka_bootstrap, topic, 2 * RECORDS)) == 2 * RECORDS


def test_a_full_disk_means_memory_only_until_space_is_freed(
        kafka_bootstrap: str, topic: str, small_disk: Path, capsys: pytest.CaptureFixture[str]) -> None:
    filler = fill(small_disk)
    handler = handler_for(kafka_bootstrap, topic, small_disk / "spool")
    try:
        send(handler)
        assert handler.spool_state == "memory-only: SQLite: database or disk is full"
        assert delivered(kafka_bootstrap, topic, RECORDS) == [f"payment {i} failed" for i in range(RECORDS)]
        [line] = announcements(capsys)
        assert "cannot be used (SQLite: database or disk is full)" in line
        assert list((small_disk / "spool").iterdir()) == [], "failed attempts leave no files on the full disk"

        filler.unlink()
        wait_for_ok(handler)
        assert list((small_disk / "spool").glob("*.db"))
    finally:
        handler.close()


def test_a_disk_that_fills_while_spooling_loses_no_record(
        kafka_bootstrap: str, topic: str, small_disk: Path, capsys: pytest.CaptureFixture[str]) -> None:
    handler = handler_for(kafka_bootstrap, topic, small_disk / "spool", memory_records=0)  # every record via disk
    try:
        send(handler)
        assert handler.spool_state == "ok"
        filler = fill(small_disk)
        send(handler, first=RECORDS)
        assert handler.spool_state == "memory-only: SQLite: database or disk is full"
        assert handler.internal_errors == 0
        [line] = announcements(capsys)
        assert "cannot be used (SQLite: database or disk is full)" in line

        filler.unlink()
        wait_for_ok(handler)
        send(handler, first=2 * RECORDS)
    finally:
        handler.close()
    assert delivered(kafka_bootstrap, topic, 3 * RECORDS) == [f"payment {i} failed" for i in range(3 * RECORDS)]
