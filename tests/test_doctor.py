import labkit
from labkit import _doctor


def test_doctor_reports_environment(capsys):
    report = labkit.doctor()
    out = capsys.readouterr().out
    assert "labkit doctor" in out and "Python" in out
    assert report.where == "plain Python"
    assert report.widgets.startswith("no")
    assert set(report.packages) >= {"numpy", "matplotlib", "ipywidgets", "simpy"}
    assert report.ok, report.problems
    assert "<table>" in report._repr_html_()


def test_problems_come_with_fixes(monkeypatch):
    real = _doctor._version
    monkeypatch.setattr(_doctor, "_version", lambda d: None if d == "simpy" else ("7.0.1" if d == "ipywidgets" else real(d)))
    report = labkit.doctor(show=False)
    assert not report.ok
    problems = dict(report.problems)
    assert any("simpy is not installed" in p for p in problems)
    assert any("ipywidgets 7.0.1 is older" in p for p in problems)
    assert all(fix for fix in problems.values())
    assert "✗" in str(report) and "fix:" in str(report)


def test_where_detects_colab_and_binder(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "google.colab", object())
    assert _doctor.where() == "Google Colab"
    monkeypatch.delitem(sys.modules, "google.colab")
    monkeypatch.setenv("BINDER_SERVICE_HOST", "x")
    assert _doctor.where() == "Binder"


def test_version_parsing():
    assert _doctor._tuple("7.7.1") == (7, 7, 1) and _doctor._tuple("8.1.0rc1") == (8, 1, 0)


def test_command_line(capsys):
    from labkit.__main__ import main
    assert main(["doctor"]) == 0
    assert "labkit doctor" in capsys.readouterr().out
