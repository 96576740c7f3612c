"""The broker's jars are resolved once, also when several processes start brokers at the same moment."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

KAFKA = "9.9.9"

# A stand-in for Maven: slow enough that the processes overlap, it writes the jar and counts its runs.
FAKE_MVN = """#!/bin/sh
echo run >> "$FAKE_MVN_RUNS"
sleep 0.15
for arg in "$@"; do
  case "$arg" in -DoutputDirectory=*) out="${arg#-DoutputDirectory=}";; esac
done
touch "$out/kafka_2.13-9.9.9.jar"
"""

RESOLVE = ("import sys; from pathlib import Path; from logmonitor.dev.localkafka.jars import ensure_classpath;"
           "print(ensure_classpath(Path(sys.argv[1]), '9.9.9'))")


def test_processes_resolving_at_once_run_maven_once_and_all_get_the_jars(tmp_path: Path) -> None:
    bin_dir, cache = tmp_path / "bin", tmp_path / "cache"
    bin_dir.mkdir()
    mvn = bin_dir / "mvn"
    mvn.write_text(FAKE_MVN)
    mvn.chmod(mvn.stat().st_mode | stat.S_IEXEC)
    runs = tmp_path / "runs"
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "FAKE_MVN_RUNS": str(runs)}
    resolving = [subprocess.Popen([sys.executable, "-c", RESOLVE, str(cache)], env=env, stdout=subprocess.PIPE,
                                  text=True) for _ in range(3)]
    answers = [process.communicate(timeout=60)[0].strip() for process in resolving]
    assert [process.returncode for process in resolving] == [0, 0, 0]
    libs = cache / f"kafka-{KAFKA}" / "libs"
    assert answers == [str(libs)] * 3
    assert (libs / f"kafka_2.13-{KAFKA}.jar").exists()
    assert runs.read_text().splitlines() == ["run"], "Maven ran once"
