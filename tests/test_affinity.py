"""--cpu-affinity: parsing, choosing the CPU, and which threads get pinned."""

import os
import threading

import neo4j
import pytest

import weftdb
from weftdb.basics import affinity
from weftdb.basics.config import Config, ConfigError
from weftdb.server.server import ServerThread

pinnable = pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no thread affinity on this platform")
ALLOWED = frozenset(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else frozenset()
QUIET = {"storage_snapshot_interval_sec": 0, "storage_snapshot_on_exit": False}


@pytest.fixture(autouse=True)
def _unpin_the_test_thread():
    """A statement run here pins pytest's own thread: undo it for the tests after."""
    yield
    if ALLOWED:
        os.sched_setaffinity(0, ALLOWED)
    vars(affinity._pinned).clear()


@pytest.mark.parametrize(
    "text, cpus",
    [("0", {0}), ("0,2", {0, 2}), ("1-3", {1, 2, 3}), (" 0 , 2-3 ", {0, 2, 3}), ("4,4", {4})],
)
def test_cpu_list(text, cpus):
    assert affinity.cpu_list(text) == cpus


def test_cpu_sets_are_described_in_the_flags_notation():
    assert affinity._describe(frozenset({0, 2, 3, 4, 5, 9})) == "CPU 0,2-5,9"
    assert str(affinity.Placement(frozenset({1}))) == "CPU 1"


@pinnable
def test_a_huge_range_is_refused_in_a_short_message():
    with pytest.raises(ValueError) as info:
        affinity.choose("0-100000", None)
    assert "-100000 is not one this process may use" in str(info.value) and len(str(info.value)) < 200


@pytest.mark.parametrize("text", ["", "a", "1-", "-1", "3-1", "1,,2", "0x1"])
def test_bad_cpu_lists_say_what_is_expected(text):
    with pytest.raises(ValueError, match="CPU numbers like 0,2-3|runs backwards"):
        affinity.cpu_list(text)


def test_the_flag_takes_none_auto_or_a_list_from_every_source():
    assert Config.load().cpu_affinity == "none"
    assert Config.load({"cpu_affinity": "AUTO"}).cpu_affinity == "auto"
    assert Config.load({"cpu_affinity": 1}).cpu_affinity == "1"
    assert Config.load(environ={"WEFTDB_CPU_AFFINITY": "0-1"}).cpu_affinity == "0-1"
    with pytest.raises(ConfigError, match=r"--cpu-affinity=fast \(from WEFTDB_CPU_AFFINITY\): .*'fast'"):
        Config.load(environ={"WEFTDB_CPU_AFFINITY": "fast"})


def _fake_machine(tmp_path, irq_lines: str, partition: bool = True):
    """A /proc/interrupts and a /sys whose block device for `data` is
    partition 1 of a disk behind a PCI device with MSI vectors 35 and 36."""
    proc, sys = tmp_path / "proc", tmp_path / "sys"
    proc.mkdir()
    (proc / "interrupts").write_text("           CPU0       CPU1       CPU2\n" + irq_lines)
    pci = sys / "devices" / "pci0000:00" / "0000:00:02.0"
    (pci / "msi_irqs").mkdir(parents=True)
    for irq in ("35", "36"):
        (pci / "msi_irqs" / irq).write_text("msix")
    disk = pci / "virtio1" / "block" / "vda"
    disk.mkdir(parents=True)
    (disk / "device").symlink_to(pci / "virtio1")
    target = disk
    if partition:
        target = disk / "vda1"
        target.mkdir()
        (target / "partition").write_text("1")
    data = tmp_path / "data"
    data.mkdir()
    st = os.stat(data)
    (sys / "dev" / "block").mkdir(parents=True)
    (sys / "dev" / "block" / f"{os.major(st.st_dev)}:{os.minor(st.st_dev)}").symlink_to(target)
    return str(data), str(proc), str(sys)


IRQS = (
    " 34:        382          0          0  PCI-MSIX  virtio4-input\n"
    " 35:          0          1          0  PCI-MSIX  virtio1-config\n"
    " 36:         10      14429         99  PCI-MSIX  virtio1-req.0\n"
    "NMI:        900        900        900  Non-maskable interrupts\n"
)


@pytest.mark.parametrize("partition", [True, False])
def test_auto_finds_the_cpu_that_completes_the_disks_io(tmp_path, partition):
    data, proc, sys = _fake_machine(tmp_path, IRQS, partition)
    assert affinity.disk_interrupt_cpu(data, frozenset({0, 1, 2}), proc, sys) == 1
    # Only CPUs the process may use; the busiest of those; none counted: unknown.
    assert affinity.disk_interrupt_cpu(data, frozenset({0, 2}), proc, sys) == 2
    assert affinity.disk_interrupt_cpu(data, frozenset({3}), proc, sys) is None
    # A directory not made yet is on the disk of its nearest existing parent.
    assert affinity.disk_interrupt_cpu(os.path.join(data, "new", "db"), frozenset({0, 1, 2}), proc, sys) == 1


def test_auto_knows_nothing_without_the_kernels_tables(tmp_path):
    data, proc, sys = _fake_machine(tmp_path, IRQS)
    assert affinity.disk_interrupt_cpu(data, frozenset({0, 1}), str(tmp_path / "nothing"), sys) is None
    assert affinity.disk_interrupt_cpu(data, frozenset({0, 1}), proc, str(tmp_path / "nothing")) is None


def test_auto_on_this_machine_picks_one_allowed_cpu(tmp_path):
    found = affinity.disk_interrupt_cpu(str(tmp_path), ALLOWED)
    assert found is None or found in ALLOWED


@pinnable
def test_choose():
    assert affinity.choose("none", "/") is None
    (cpu,) = affinity.choose("auto", None)  # no data disk: the lowest CPU allowed
    assert cpu == min(ALLOWED)
    assert affinity.choose(",".join(map(str, ALLOWED)), None) == ALLOWED
    with pytest.raises(ValueError, match=rf"CPU {max(ALLOWED) + 1} is not one this process may use \(CPU "):
        affinity.choose(str(max(ALLOWED) + 1), None)


@pinnable
def test_a_cpu_the_process_may_not_use_fails_the_open_and_leaves_the_directory_free(tmp_path):
    with pytest.raises(ConfigError, match=rf"--cpu-affinity={max(ALLOWED) + 1}: CPU {max(ALLOWED) + 1} is not one"):
        weftdb.open(str(tmp_path), cpu_affinity=str(max(ALLOWED) + 1), **QUIET)
    weftdb.open(str(tmp_path), **QUIET).close()  # nothing was locked


def _in_thread(fn):
    """Run fn in a new thread (started unpinned); return the thread's CPU set afterwards."""
    seen = {}

    def body():
        os.sched_setaffinity(0, ALLOWED)
        fn()
        seen["cpus"] = os.sched_getaffinity(0)

    t = threading.Thread(target=body)
    t.start()
    t.join()
    return seen["cpus"]


@pinnable
def test_threads_that_run_statements_are_pinned_and_others_are_not(tmp_path):
    cpu = max(ALLOWED)
    with weftdb.open(str(tmp_path), cpu_affinity=str(cpu), **QUIET) as db:
        assert str(db.placement) == f"CPU {cpu}"
        assert _in_thread(lambda: db.execute("CREATE (:N)")) == {cpu}
        assert _in_thread(lambda: db.begin()) == {cpu}

        tx = db.begin()  # begun here, its statement and commit run in other threads (as over Bolt)
        assert _in_thread(lambda: tx.execute("CREATE (:N)")) == {cpu}
        assert _in_thread(tx.commit) == {cpu}
        assert _in_thread(lambda: None) == ALLOWED
        assert db.execute("MATCH (n:N) RETURN count(n) AS c").rows == [(2,)]


@pinnable
def test_by_default_no_thread_is_pinned(tmp_path):
    with weftdb.open(str(tmp_path), **QUIET) as db:
        assert str(db.placement) == "unpinned"
        assert _in_thread(lambda: db.execute("CREATE (:N)")) == ALLOWED


@pinnable
def test_a_refused_pin_is_logged_once_and_statements_go_on(tmp_path, monkeypatch, caplog):
    calls = []

    def refuse(pid, cpus):
        calls.append(cpus)
        raise OSError(22, "Invalid argument")

    with weftdb.open(str(tmp_path), cpu_affinity=str(min(ALLOWED)), **QUIET) as db:
        monkeypatch.setattr(affinity.os, "sched_setaffinity", refuse)

        def twice():
            db.execute("CREATE (:N)")
            db.execute("CREATE (:N)")

        t = threading.Thread(target=twice)
        t.start()
        t.join()
        assert len(calls) == 1
        assert "could not pin thread" in caplog.text and "Invalid argument" in caplog.text
        monkeypatch.undo()
        assert db.execute("MATCH (n:N) RETURN count(n) AS c").rows == [(2,)]


@pinnable
def test_the_servers_loop_and_the_workers_that_ran_statements_are_pinned(tmp_path):
    cpu = max(ALLOWED)
    with weftdb.open(str(tmp_path), cpu_affinity=str(cpu), **QUIET) as db:
        with ServerThread(db, Config.load({"bolt_port": 0, "bolt_address": "127.0.0.1"})) as server:
            uri = f"bolt://127.0.0.1:{server.port}"
            with neo4j.GraphDatabase.driver(uri, auth=("", "")) as driver, driver.session() as session:
                session.run("CREATE (:N {v: 1})").consume()
                with session.begin_transaction() as tx:
                    tx.run("CREATE (:N {v: 2})").consume()
                    tx.commit()
            threads = {t.name: t.native_id for t in threading.enumerate()}
            loop = threads["weftdb-bolt-server"]
            workers = [tid for name, tid in threads.items() if name.startswith("weftdb-bolt_")]
            assert os.sched_getaffinity(loop) == {cpu}
            # A worker that only answered HELLO ran no statement, and may stay unpinned.
            sets = [os.sched_getaffinity(tid) for tid in workers]
            assert {cpu} in sets and all(s in ({cpu}, ALLOWED) for s in sets)


@pinnable
def test_the_command_line_names_the_value_and_refuses_a_cpu_it_cannot_use(tmp_path):
    from click.testing import CliRunner

    from weftdb.cli import main

    assert "--cpu-affinity CPUS" in CliRunner().invoke(main, ["serve", "--help"]).output
    bad = str(max(ALLOWED) + 1)
    result = CliRunner().invoke(main, ["serve", "--data-directory", str(tmp_path / "data"), "--cpu-affinity", bad])
    assert result.exit_code != 0
    assert f"--cpu-affinity={bad}: CPU {bad} is not one this process may use" in result.output
