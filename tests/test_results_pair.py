"""An experiment's CSV and JSON are one unit: a run killed between the two renames, or two
runs writing the same results at once, never leave a pair that `load` refuses, and never
lose both the previous and the new results."""
import os
import signal
import subprocess
import sys
import textwrap
import threading

import pytest

from costad.study import results
from costad.study.errors import ResultsError


def _frame(tag: str, rows: int = 40):
    return results.to_frame([{"experiment": "x", "function": tag, "strategy": "s", "n": i,
                              "metric": "ops", "kind": "total", "value": i, "unit": "ops"}
                             for i in range(1, rows + 1)])


def _tag(directory, name="x"):
    df, meta = results.load(name, directory)
    tags = set(df.function)
    assert len(tags) == 1 and meta["tag"] in tags, (tags, meta["tag"])
    return meta["tag"]


def _interrupt_when_replacing_into(monkeypatch, target):
    real = os.replace

    def replace(src, dst, *args, **kwargs):
        if os.path.basename(os.fspath(dst)) == target:
            raise KeyboardInterrupt                 # the run dies right here
        return real(src, dst, *args, **kwargs)
    monkeypatch.setattr(os, "replace", replace)


@pytest.mark.parametrize("target", [".x.pending.csv", ".x.pending.json", "x.csv"])
def test_interrupted_before_the_csv_is_replaced_keeps_the_previous_pair(tmp_path,
                                                                        monkeypatch, target):
    results.write(_frame("old"), "x", tmp_path, {"tag": "old"})
    _interrupt_when_replacing_into(monkeypatch, target)
    with pytest.raises(KeyboardInterrupt):
        results.write(_frame("new"), "x", tmp_path, {"tag": "new"})
    monkeypatch.undo()
    assert _tag(tmp_path) == "old"
    results.write(_frame("other", 3), "y", tmp_path, {"tag": "other"})   # any later write
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != ".costad.lock") == [
        "x.csv", "x.json", "y.csv", "y.json"]                           # cleans up
    results.write(_frame("newer"), "x", tmp_path, {"tag": "newer"})
    assert _tag(tmp_path) == "newer"


def test_interrupted_between_the_two_renames_gives_the_complete_new_pair(tmp_path,
                                                                         monkeypatch):
    results.write(_frame("old"), "x", tmp_path, {"tag": "old"})
    _interrupt_when_replacing_into(monkeypatch, "x.json")
    with pytest.raises(KeyboardInterrupt):
        results.write(_frame("new"), "x", tmp_path, {"tag": "new"})
    monkeypatch.undo()
    assert _tag(tmp_path) == "new"                  # the new CSV is in place: roll forward
    results.write(_frame("other", 3), "y", tmp_path, {"tag": "other"})   # any later write
    assert _tag(tmp_path) == "new" and _tag(tmp_path, "y") == "other"   # completes it
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != ".costad.lock") == [
        "x.csv", "x.json", "y.csv", "y.json"]


KILLER = textwrap.dedent('''
    import os, signal, sys
    from costad.study import results
    directory, target = sys.argv[1], sys.argv[2]
    real = os.replace
    def replace(src, dst, *args, **kwargs):
        if os.path.basename(os.fspath(dst)) == target:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(src, dst, *args, **kwargs)
    os.replace = replace
    df = results.to_frame([{"experiment": "x", "function": "new", "metric": "ops",
                            "kind": "total", "value": 7, "unit": "ops"}])
    results.write(df, "x", directory, {"tag": "new"})
''')


@pytest.mark.parametrize("target, survivor", [("x.csv", "old"), ("x.json", "new")])
def test_a_process_killed_in_the_window_leaves_a_loadable_pair(tmp_path, target, survivor):
    results.write(_frame("old"), "x", tmp_path, {"tag": "old"})
    proc = subprocess.run([sys.executable, "-c", KILLER, str(tmp_path), target])
    assert proc.returncode == -signal.SIGKILL
    assert _tag(tmp_path) == survivor


def test_two_concurrent_writers_and_a_reader_never_see_a_broken_pair(tmp_path, monkeypatch):
    real = os.replace

    def slow_replace(src, dst, *args, **kwargs):
        # Widen the window between renames so that unsynchronised writers would interleave.
        threading.Event().wait(0.002)
        return real(src, dst, *args, **kwargs)
    monkeypatch.setattr(os, "replace", slow_replace)
    results.write(_frame("a"), "x", tmp_path, {"tag": "a"})
    errors, seen = [], set()
    done = threading.Event()

    def writer(tag):
        try:
            for _ in range(25):
                results.write(_frame(tag), "x", tmp_path, {"tag": tag})
        except Exception as err:                     # pragma: no cover - reported below
            errors.append(err)

    def reader():
        while not done.is_set():
            try:
                seen.add(_tag(tmp_path))
            except (ResultsError, AssertionError) as err:
                errors.append(err)

    threads = [threading.Thread(target=writer, args=(t,)) for t in ("a", "b")]
    watcher = threading.Thread(target=reader)
    watcher.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    watcher.join()
    assert errors == []
    assert _tag(tmp_path) in {"a", "b"} and seen <= {"a", "b"}


def test_two_concurrent_processes_writing_the_same_results(tmp_path):
    script = textwrap.dedent('''
        import sys
        from costad.study import results
        directory, tag = sys.argv[1], sys.argv[2]
        for i in range(40):
            df = results.to_frame([{"experiment": "x", "function": tag, "n": k,
                                    "metric": "ops", "kind": "total", "value": k,
                                    "unit": "ops"} for k in range(1, 200)])
            results.write(df, "x", directory, {"tag": tag})
    ''')
    procs = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path), tag])
             for tag in ("p", "q")]
    loads = 0
    while any(p.poll() is None for p in procs):
        if (tmp_path / "x.json").exists():
            assert _tag(tmp_path) in {"p", "q"}
            loads += 1
    assert [p.returncode for p in procs] == [0, 0]
    assert _tag(tmp_path) in {"p", "q"}
