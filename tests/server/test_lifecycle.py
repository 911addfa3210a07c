"""Cancellation, timeouts, limits and shutdown, over sockets against the fake database."""

import re
import shutil
import signal
import subprocess
import sys
import threading
import time

import mgclient
import neo4j
import pytest
from bolt_servers import start
from boltbytes import RawClient, message
from fakes import FakeDatabase
from serverproc import ServerProcess

import weftdb


def wait_for(condition, timeout=3.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_reset_interrupts_a_running_query(fake_server):
    client = RawClient(fake_server.port).login()
    started = time.monotonic()
    client.send(message("RUN", "SLEEP 30", {}, {}), message("PULL", {"n": -1}))
    time.sleep(0.2)
    client.send(message("RESET"))
    replies = client.read(3)
    assert [name for name, _ in replies] == ["FAILURE", "IGNORED", "SUCCESS"]
    assert "Terminated" in replies[0][1][0]["neo4j_code"]
    assert time.monotonic() - started < 5 and fake_server.db.interrupted == 1
    client.send(message("RUN", "UNWIND range(1, 2) AS i RETURN i", {}, {}), message("PULL", {"n": -1}))
    assert [name for name, _ in client.read(4)] == ["SUCCESS", "RECORD", "RECORD", "SUCCESS"]
    client.close()


def test_dropped_connection_interrupts_and_rolls_back(fake_server):
    client = RawClient(fake_server.port).login()
    client.send(message("BEGIN", {}), message("RUN", "CREATE (:Item {v: $v})", {"v": 1}, {}), message("PULL", {}))
    assert [name for name, _ in client.read(3)] == ["SUCCESS", "SUCCESS", "SUCCESS"]
    client.send(message("RUN", "SLEEP 30", {}, {}))
    time.sleep(0.2)
    client.close()
    assert wait_for(lambda: fake_server.db.interrupted == 1)
    assert wait_for(lambda: not fake_server.server.connections)
    assert fake_server.db.items == []


def test_query_timeout_from_the_flag():
    db = FakeDatabase()
    server = start(db, query_execution_timeout_sec=0.2)
    try:
        with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{server.port}", auth=None) as driver:
            with pytest.raises(neo4j.exceptions.ClientError, match="longer than 0.2"):
                driver.execute_query("SLEEP 10")
    finally:
        server.stop()


def test_one_slow_query_does_not_stall_others(fake_server):
    with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{fake_server.port}", auth=None) as driver:
        slow = threading.Thread(target=lambda: driver.execute_query("SLEEP 1.5"))
        slow.start()
        time.sleep(0.1)
        started = time.monotonic()
        for _ in range(20):
            driver.execute_query("UNWIND range(1, 3) AS i RETURN i")
        assert time.monotonic() - started < 1.0
        slow.join()


def test_idle_connections_are_closed():
    server = start(FakeDatabase(), bolt_session_inactivity_timeout=1)
    try:
        client = RawClient(server.port).login()
        assert client.is_closed_by_server(wait=3)
    finally:
        server.stop()


def test_connection_limit():
    server = start(FakeDatabase(), bolt_max_connections=2)
    try:
        first, second = RawClient(server.port).login(), RawClient(server.port).login()
        with pytest.raises(ConnectionError):
            RawClient(server.port).login()
        first.close()
        assert wait_for(lambda: len(server.server.connections) == 1)
        RawClient(server.port).login().close()
        second.close()
    finally:
        server.stop()


def test_message_size_limit_closes_only_that_connection():
    server = start(FakeDatabase(), bolt_max_message_size_kib=1)
    try:
        healthy = RawClient(server.port).login()
        big = RawClient(server.port).login()
        big.send(message("RUN", "x" * 2000, {}, {}))
        [(name, (failure,))] = big.read(1)
        assert name == "FAILURE" and "--bolt-max-message-size-kib" in failure["message"]
        assert big.is_closed_by_server()
        healthy.send(message("RUN", "UNWIND range(1, 1) AS i RETURN i", {}, {}), message("PULL", {"n": -1}))
        assert [name for name, _ in healthy.read(3)] == ["SUCCESS", "RECORD", "SUCCESS"]
    finally:
        server.stop()


def make_certificate(directory):
    """A self-signed certificate for localhost / 127.0.0.1: with `cryptography`, else the openssl CLI."""
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    try:
        import datetime as dt
        import ipaddress

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:
        if shutil.which("openssl") is None:
            pytest.skip("neither cryptography nor the openssl command is available to make a certificate")
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
             "-keyout", str(key_file), "-out", str(cert_file)],
            check=True, capture_output=True,
        )  # fmt: skip
        return cert_file, key_file
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


def test_tls(tmp_path):
    cert_file, key_file = make_certificate(tmp_path)
    server = start(FakeDatabase(), bolt_cert_file=str(cert_file), bolt_key_file=str(key_file))
    try:
        with neo4j.GraphDatabase.driver(
            f"bolt://localhost:{server.port}",
            auth=None,
            encrypted=True,
            trusted_certificates=neo4j.TrustCustomCAs(str(cert_file)),
        ) as driver:
            assert driver.execute_query("UNWIND range(1, 2) AS i RETURN i").records[1]["i"] == 2
        with neo4j.GraphDatabase.driver(f"bolt+ssc://127.0.0.1:{server.port}", auth=None) as driver:
            driver.verify_connectivity()
        with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{server.port}", auth=None) as plain:
            with pytest.raises(neo4j.exceptions.ServiceUnavailable):
                plain.verify_connectivity()
    finally:
        server.stop()


def test_tls_with_pymgclient(tmp_path):
    cert_file, key_file = make_certificate(tmp_path)
    with ServerProcess("--fake", f"bolt_cert_file={cert_file}", f"bolt_key_file={key_file}") as server:
        connection = mgclient.connect(host="127.0.0.1", port=server.port, sslmode=mgclient.MG_SSLMODE_REQUIRE)
        cursor = connection.cursor()
        cursor.execute("UNWIND range(1, 2) AS i RETURN i")
        assert cursor.fetchall() == [(1,), (2,)]


SERVE = (
    "from weftdb.basics.config import Config; from weftdb.server.server import serve; "
    "serve(Config.load({{'data_directory': {path!r}, 'bolt_port': 0, 'backup_enabled': False, "
    "'bolt_shutdown_grace_sec': {grace}}}))"
)


def spawn(path, grace, cli=False):
    """A server process (`serve()` through python -c, or the `weftdb serve` command) and its port."""
    if cli:
        command = [sys.executable, "-m", "weftdb", "serve", "--data-directory", path, "--bolt-port", "0",
                   "--backup-enabled", "false", "--bolt-shutdown-grace-sec", str(grace)]  # fmt: skip
    else:
        command = [sys.executable, "-c", SERVE.format(path=path, grace=grace)]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    line = process.stderr.readline()
    match = re.search(r"bolt://127\.0\.0\.1:(\d+)", line)
    if not match:
        process.kill()
        raise AssertionError(f"server did not start: {line!r}{process.stderr.read()}")
    return process, int(match.group(1))


def test_sigterm_rolls_back_open_work_closes_the_database_and_exits_0(tmp_path):
    path = str(tmp_path / "data")
    process, port = spawn(path, grace=0.5)
    try:
        with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=None) as driver:
            driver.execute_query("CREATE (:Kept {v: 1})")
            session = driver.session()
            tx = session.begin_transaction()
            tx.run("CREATE (:Lost {v: 2})").consume()
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=15) == 0
    finally:
        process.kill()
    with weftdb.open(path) as db:  # the lock was released and the commit is durable
        assert db.execute("MATCH (n:Kept) RETURN count(n)").rows == [(1,)]
        assert db.execute("MATCH (n:Lost) RETURN count(n)").rows == [(0,)]


def test_second_signal_exits_at_once(tmp_path):
    process, port = spawn(str(tmp_path / "data"), grace=60, cli=True)
    try:
        with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=None) as driver:
            session = driver.session()
            tx = session.begin_transaction()
            tx.run("RETURN 1").consume()
            process.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            assert process.poll() is None  # waiting for the open transaction
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=5) != 0
    finally:
        process.kill()


def test_engine_queries_stop_on_reset_and_on_timeout():
    db = weftdb.open()
    server = start(db, query_execution_timeout_sec=0.3)
    long_query = "UNWIND range(1, 2000) AS a UNWIND range(1, 20000) AS b RETURN count(*)"  # ~40M rows
    try:
        with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{server.port}", auth=None) as driver:
            started = time.monotonic()
            with pytest.raises(neo4j.exceptions.ClientError) as caught:
                driver.execute_query(long_query)
            assert caught.value.code == "Neo.ClientError.Transaction.TransactionTimedOut"
            assert time.monotonic() - started < 5
        client = RawClient(server.port).login()
        started = time.monotonic()
        client.send(message("RUN", long_query, {}, {"tx_timeout": 60_000}), message("PULL", {"n": -1}))
        time.sleep(0.1)
        client.send(message("RESET"))
        replies = client.read(3)
        assert [name for name, _ in replies] == ["FAILURE", "IGNORED", "SUCCESS"]
        assert replies[0][1][0]["neo4j_code"] == "Neo.TransientError.Transaction.Terminated"  # not the timeout
        assert time.monotonic() - started < 5
        client.close()
    finally:
        server.stop()
        db.close()


def test_the_server_runs_on_uvloop(fake_server):
    import uvloop  # a dependency everywhere but Windows

    assert isinstance(fake_server._loop, uvloop.Loop)
