"""Progress of a long run: plain periodic lines off a terminal, a live bar on one, and a line
for every unexpected outcome either way."""

from __future__ import annotations

from harness.progress import Progress, eta_text


def _record(case_id: str, status: str, **extra) -> dict:
    return {"case_id": case_id, "status": status, "stage": "compare", "seconds": {"total": 0.1},
            "max_abs_err": None, **extra}


def test_plain_lines_carry_counts_per_status_and_an_eta():
    lines: list[str] = []
    progress = Progress(4, verbose=False, echo=lines.append, live=False, every=2, interval=3600)
    progress(None, _record("a[0]", "pass"))
    assert lines == []
    progress(None, _record("b[0]", "xfail"))
    assert lines[-1].startswith("[2/4 cases, pass=1 xfail=1, ") and "ETA " in lines[-1]
    progress(None, _record("c[0]", "mismatch", error="wrong", repro="/r/c.py"))
    assert lines[-2].startswith("c[0]") and "mismatch" in lines[-2]  # the unexpected outcome's line
    assert lines[-1] == "    repro: /r/c.py"
    progress(None, _record("d[0]", "pass"))
    assert lines[-1].startswith("[4/4 cases, mismatch=1 pass=2 xfail=1, ") and lines[-1].endswith("ETA 0s]")


def test_dynamic_program_counts_once():
    lines: list[str] = []
    progress = Progress(1, verbose=False, echo=lines.append, live=False)
    for size in (2, 3):
        progress(None, _record(f"dyn[0]@{size}", "pass", dynamic_case="dyn[0]"))
    assert progress.count == 1 and progress.counts["pass"] == 2


def test_eta():
    assert eta_text(0, 10, 5.0) == "?"
    assert eta_text(5, 10, 50.0) == "50s"
    assert eta_text(1, 10, 20.0) == "3m00s"
    assert eta_text(1, 1000, 20.0) == "5h33m"


def test_live_bar_prints_unexpected_lines_and_final_counts(capsys):
    progress = Progress(2, verbose=False, live=True)
    progress(None, _record("a[0]", "crash", error="SIGSEGV"))
    progress(None, _record("b[0]", "pass"))
    out = capsys.readouterr().out
    assert "a[0]" in out and "crash" in out
    assert "2/2" in out and "crash=1 pass=1" in out
    assert not progress.bar.progress.live.is_started  # the bar stopped when the last case ended
