"""make test's runner: counts from the passes' JUnit reports, and a pass that fails or runs nothing fails the suite."""

from __future__ import annotations

from pathlib import Path

from tools.run_suite import NO_TESTS, PassResult, read_report, summary

REPORT = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" tests="4">
<testcase classname="tests.a" name="test_ok" time="1.5"/>
<testcase classname="tests.a" name="test_slow" time="30.25"/>
<testcase classname="tests.b" name="test_broken" time="2.0"><failure message="no"/></testcase>
<testcase classname="tests.b" name="test_later" time="0.1"><skipped message="later"/></testcase>
</testsuite></testsuites>"""


def test_a_report_gives_each_outcome_and_each_tests_duration(tmp_path: Path) -> None:
    report = tmp_path / "parallel.xml"
    report.write_text(REPORT)
    result = read_report("parallel", 1, report)
    assert result.counts == {"passed": 2, "failed": 1, "skipped": 1}
    assert max(result.durations) == (30.25, "tests.a::test_slow")


def test_the_closing_line_adds_up_both_passes() -> None:
    passes = [PassResult("parallel", 0, counts={"passed": 10, "failed": 0, "skipped": 0}),
              PassResult("kills", 0, counts={"passed": 4, "failed": 0, "skipped": 0})]
    assert summary(passes) == ("suite: 14 passed, 0 failed", True)


def test_a_pass_that_ran_no_test_or_failed_fails_the_suite(tmp_path: Path) -> None:
    empty = read_report("latency", NO_TESTS, tmp_path / "missing.xml")
    ran = PassResult("parallel", 0, counts={"passed": 10, "failed": 0, "skipped": 0})
    assert summary([ran, empty]) == ("suite: 10 passed, 0 failed", False)
    failed = PassResult("kills", 1, counts={"passed": 3, "failed": 1, "skipped": 0})
    assert summary([ran, failed]) == ("suite: 13 passed, 1 failed", False)
