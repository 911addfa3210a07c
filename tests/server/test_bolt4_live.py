"""Bolt 4.0 to 4.3 against the real engine, as py2neo speaks them: credentials
in HELLO, results pulled by their index in the transaction, ROUTE only from
4.3 (with the database by name), nodes without element ids."""

import pytest
from boltbytes import RawClient, message

from weftdb.server.bolt.packstream import Structure


@pytest.mark.parametrize("version", [(4, 0), (4, 1), (4, 2), (4, 3)])
def test_a_py2neo_session(engine_server, version):
    client = RawClient(engine_server.port, version=version)
    try:
        assert client.version == bytes((0, 0, version[1], version[0]))
        client.send(message("HELLO", {"user_agent": "py2neo/2021.2", "scheme": "basic", "principal": "neo4j",
                                      "credentials": "password"}))
        ((name, (hello,)),) = client.read(1)
        assert name == "SUCCESS" and hello["server"].startswith("Neo4j/")
        client.send(message("BEGIN", {"db": "neo4j"}),
                    message("RUN", "CREATE (n:Bolt4 {v: $v}) RETURN n", {"v": version[1]}, {}),
                    message("RUN", "RETURN 2 AS two", {}, {}),
                    message("PULL", {"n": -1, "qid": 0}),  # the first result, by its index in the transaction
                    message("PULL", {"n": -1, "qid": -1}),
                    message("COMMIT"))
        replies = client.read(8)
        assert [r[0] for r in replies] == ["SUCCESS", "SUCCESS", "SUCCESS", "RECORD", "SUCCESS", "RECORD", "SUCCESS",
                                           "SUCCESS"]
        assert (replies[1][1][0]["qid"], replies[2][1][0]["qid"]) == (0, 1)
        (node,) = replies[3][1][0]
        assert isinstance(node, Structure) and node.tag == 0x4E and len(node.fields) == 3  # no element id before 5
        assert node.fields[2] == {"v": version[1]} and replies[5][1][0] == [2]
        assert replies[4][1][0]["db"] == "neo4j"
        client.send(message("ROUTE", {"address": "x:1"}, [], "neo4j" if version >= (4, 3) else None))
        ((name, fields),) = client.read(1)
        if version >= (4, 3):
            assert name == "SUCCESS" and fields[0]["rt"]["db"] == "neo4j"
        else:
            assert name == "FAILURE" and "ROUTE does not exist" in fields[0]["message"]
    finally:
        client.close()
