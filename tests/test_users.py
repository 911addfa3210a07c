"""User statements through the embedded API: the store the Bolt server checks."""

import pytest

import weftdb


def test_user_lifecycle_persists_across_restarts(tmp_path):
    with weftdb.open(str(tmp_path), storage_snapshot_on_exit=False) as db:
        db.execute("CREATE USER ann IDENTIFIED BY 'secret'")
        db.execute("CREATE USER bob IDENTIFIED BY $pw", {"pw": "hunter2"})
        assert db.execute("SHOW USERS").rows == [("ann",), ("bob",)]
        db.execute("SET PASSWORD FOR ann TO 'changed'")
        db.execute("DROP USER bob")
    with weftdb.open(str(tmp_path), storage_snapshot_on_exit=False) as db:
        assert db.execute("SHOW USERS").rows == [("ann",)]
        assert db.users.verify("ann", "changed")
        assert not db.users.verify("ann", "secret")
        assert not db.users.verify("bob", "hunter2")
    stored = (tmp_path / "auth").read_bytes() if (tmp_path / "auth").is_file() else b"".join(
        p.read_bytes() for p in (tmp_path / "auth").iterdir()
    )
    assert b"changed" not in stored  # salted hashes only


def test_user_errors_are_clear():
    db = weftdb.open()
    db.execute("CREATE USER ann IDENTIFIED BY 'x'")
    with pytest.raises(weftdb.ClientError, match="ann"):
        db.execute("CREATE USER ann IDENTIFIED BY 'y'")
    with pytest.raises(weftdb.ClientError, match="zed"):
        db.execute("DROP USER zed")
    with pytest.raises(weftdb.ClientError, match="parameter"):
        db.execute("CREATE USER carl IDENTIFIED BY $missing")
    with db.transaction() as tx:  # a driver's managed transaction may read the users
        assert tx.execute("SHOW USERS").rows == [("ann",)]
    with pytest.raises(weftdb.TransactionError, match="written data"):
        with db.transaction() as tx:  # but not change them beside data writes
            tx.execute("CREATE (:N)")
            tx.execute("CREATE USER dan IDENTIFIED BY 'x'")
    assert db.execute("SHOW USERS").rows == [("ann",)]
    assert db.execute("MATCH (n:N) RETURN count(n)").rows == [(0,)]
