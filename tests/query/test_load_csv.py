"""LOAD CSV in Neo4j's and Memgraph's forms: the files it may read (under
--import-directory only), their rows and values, compressed files, bad rows,
linenumber() and file(), and that rows stream."""

import bz2
import gzip
import io
import os
import subprocess
import sys
import textwrap

import pytest
import zstandard
from cypher_helpers import rows, value

import weftdb
from weftdb.basics.errors import CypherSemanticError, CypherSyntaxError, LoadCsvError

PEOPLE = 'id,name,age\n1,Ann,31\n2,"Bob, Jr",\n3,"",27\n'


@pytest.fixture(scope="module")
def imports(tmp_path_factory):
    directory = tmp_path_factory.mktemp("import")
    (directory / "people.csv").write_text(PEOPLE)
    (directory / "sub").mkdir()
    (directory / "sub" / "semi.csv").write_text("a;b\n'x;y';2\n")
    (directory / "sub" / "tabs.tsv").write_text("a b\tc\n")
    return directory


@pytest.fixture(scope="module")
def csvdb(imports):
    database = weftdb.open(import_directory=str(imports))
    yield database
    database.close()


@pytest.fixture
def db(csvdb):
    yield csvdb
    csvdb.execute("MATCH (n) DETACH DELETE n")


def test_neo4j_form_with_headers_gives_maps_and_null_for_empty_unquoted_fields(db):
    got = rows(db, "LOAD CSV WITH HEADERS FROM 'file:///people.csv' AS row RETURN row")
    assert got == [
        ({"id": "1", "name": "Ann", "age": "31"},),
        ({"id": "2", "name": "Bob, Jr", "age": None},),  # `,` at the end: null
        ({"id": "3", "name": "", "age": "27"},),  # `""`: the empty string
    ]


def test_neo4j_form_without_headers_gives_lists(db):
    got = rows(db, "LOAD CSV FROM 'people.csv' AS row RETURN row")
    assert got[0] == (["id", "name", "age"],) and got[2] == (["2", "Bob, Jr", None],)


def test_memgraph_form_keeps_empty_fields_as_strings_and_nullif_makes_nulls(db):
    assert rows(db, "LOAD CSV FROM 'people.csv' WITH HEADER AS row RETURN row.age")[1] == ("",)
    got = rows(db, "LOAD CSV FROM 'people.csv' WITH HEADER NULLIF '' AS row RETURN row.name, row.age")
    assert got == [("Ann", "31"), ("Bob, Jr", None), (None, "27")]
    assert rows(db, "LOAD CSV FROM 'people.csv' NO HEADER AS row RETURN row[1]")[0] == ("name",)


def test_delimiter_quote_and_fieldterminator(db):
    memgraph = "LOAD CSV FROM 'sub/semi.csv' WITH HEADER DELIMITER ';' QUOTE \"'\" AS row RETURN row.a, row.b"
    assert rows(db, memgraph) == [("x;y", "2")]
    neo4j = "LOAD CSV WITH HEADERS FROM 'file:///sub/semi.csv' AS row FIELDTERMINATOR ';' RETURN row"
    with pytest.raises(LoadCsvError, match="line 2 .* got 3"):  # the quote is `"`: 'x;y' is two fields
        db.execute(neo4j)
    tabs = "LOAD CSV FROM 'sub/tabs.tsv' AS row FIELDTERMINATOR '\\t' RETURN row"
    assert rows(db, tabs) == [(["a b", "c"],)]
    with pytest.raises(LoadCsvError, match="one character"):
        db.execute("LOAD CSV FROM 'people.csv' AS row FIELDTERMINATOR ';;' RETURN row")


def test_linenumber_and_file(db, imports):
    got = rows(db, "LOAD CSV WITH HEADERS FROM 'people.csv' AS row WITH row RETURN linenumber() AS n, file() AS f")
    assert [n for n, _ in got] == [2, 3, 4]
    assert {f for _, f in got} == {os.path.realpath(imports / "people.csv")}
    assert value(db, "RETURN linenumber()") is None and value(db, "RETURN file()") is None


def test_rows_create_a_graph_with_converted_values(db):
    result = db.execute(
        "LOAD CSV WITH HEADERS FROM 'people.csv' AS row "
        "CREATE (:Person {id: toInteger(row.id), name: row.name, age: toInteger(row.age)})"
    )
    assert result.counters["nodes-created"] == 3
    assert rows(db, "MATCH (p:Person) RETURN p.id, p.age ORDER BY p.id") == [(1, 31), (2, None), (3, 27)]


@pytest.mark.parametrize("name, compress", [
    ("gz.csv.gz", gzip.compress),
    ("bz.csv.bz2", bz2.compress),
    ("zs.csv.zst", lambda data: zstandard.ZstdCompressor().compress(data)),
    ("plain_name_but_gzip.csv", gzip.compress),  # recognised by its first bytes, whatever its name
])
def test_compressed_files_are_read_as_they_are(db, imports, name, compress):
    (imports / name).write_bytes(compress(PEOPLE.encode()))
    assert rows(db, f"LOAD CSV WITH HEADERS FROM '{name}' AS row RETURN row.name") == [("Ann",), ("Bob, Jr",), ("",)]


def test_a_name_that_says_compressed_but_is_not(db, imports):
    (imports / "liar.csv.gz").write_text(PEOPLE)
    with pytest.raises(LoadCsvError, match="not a gzip file"):
        db.execute("LOAD CSV FROM 'liar.csv.gz' AS row RETURN row")


def test_byte_order_mark_is_skipped_and_text_must_be_utf8(db, imports):
    (imports / "bom.csv").write_bytes(b"\xef\xbb\xbfk\nv\n")
    assert rows(db, "LOAD CSV WITH HEADERS FROM 'bom.csv' AS row RETURN row") == [({"k": "v"},)]
    (imports / "latin1.csv").write_bytes("k\nbl\xe5\n".encode("latin-1"))
    with pytest.raises(LoadCsvError, match="not UTF-8"):
        db.execute("LOAD CSV FROM 'latin1.csv' AS row RETURN row")


@pytest.mark.parametrize("source", [
    "../outside.csv", "file:///../outside.csv", "sub/../../outside.csv", "/etc/passwd", "file:////etc/passwd",
])
def test_paths_outside_the_import_directory_are_refused_naming_the_flag(db, imports, source):
    (imports.parent / "outside.csv").write_text("secret\n")
    with pytest.raises(LoadCsvError, match="--import-directory") as error:
        db.execute(f"LOAD CSV FROM '{source}' AS row RETURN row")
    assert "outside the import directory" in str(error.value) or "does not exist" in str(error.value)


def test_a_symbolic_link_out_of_the_import_directory_is_refused(db, imports):
    (imports.parent / "target.csv").write_text("x\n")
    link = imports / "link.csv"
    if not link.exists():
        link.symlink_to(imports.parent / "target.csv")
    with pytest.raises(LoadCsvError, match="outside the import directory"):
        db.execute("LOAD CSV FROM 'link.csv' AS row RETURN row")
    (imports / "inside_link.csv").symlink_to(imports / "people.csv") if not (imports / "inside_link.csv").exists() else None
    assert value(db, "LOAD CSV FROM 'inside_link.csv' AS row RETURN count(*)") == 4


def test_absolute_path_inside_the_import_directory_is_read(db, imports):
    assert value(db, "LOAD CSV FROM $path AS row RETURN count(*)", {"path": str(imports / "people.csv")}) == 4


def test_missing_file_urls_and_bad_sources(db):
    with pytest.raises(LoadCsvError, match="does not exist"):
        db.execute("LOAD CSV FROM 'nope.csv' AS row RETURN row")
    with pytest.raises(LoadCsvError, match="not https URLs"):
        db.execute("LOAD CSV FROM 'https://example.com/a.csv' AS row RETURN row")
    with pytest.raises(LoadCsvError, match="as a string"):
        db.execute("LOAD CSV FROM 42 AS row RETURN row")


def test_turned_off_and_missing_import_directory(tmp_path):
    with weftdb.open(import_directory="") as off:
        with pytest.raises(LoadCsvError, match="turned off: --import-directory is empty"):
            off.execute("LOAD CSV FROM 'a.csv' AS row RETURN row")
    with weftdb.open(import_directory=str(tmp_path / "missing")) as missing:
        with pytest.raises(LoadCsvError, match="does not exist: create it"):
            missing.execute("LOAD CSV FROM 'a.csv' AS row RETURN row")


def test_relative_import_directory_is_taken_from_where_the_database_opens(tmp_path, monkeypatch):
    (tmp_path / "import").mkdir()
    (tmp_path / "import" / "x.csv").write_text("1\n2\n")
    monkeypatch.chdir(tmp_path)
    with weftdb.open() as default:  # ./import
        assert default.import_directory == str(tmp_path / "import")
        monkeypatch.chdir("/")
        assert value(default, "LOAD CSV FROM 'x.csv' AS row RETURN count(*)") == 2


BAD = 'a,b\n1,2\n3,"unterminated\n4,5\n'


def test_a_malformed_row_names_its_line_and_ignore_bad_skips_it(db, imports):
    (imports / "ragged.csv").write_text("a,b\n1,2\n3,4,5\n6\n7,8\n")
    with pytest.raises(LoadCsvError, match="line 3 is not a valid row: expected 2 fields as in the header, got 3"):
        db.execute("LOAD CSV WITH HEADERS FROM 'ragged.csv' AS row RETURN row")
    # Neo4j's form pads a short row with nulls; Memgraph's calls it bad.
    got = rows(db, "LOAD CSV FROM 'ragged.csv' WITH HEADER IGNORE BAD AS row RETURN row.a, row.b")
    assert got == [("1", "2"), ("7", "8")]
    (imports / "short.csv").write_text("a,b\n1,2\n6\n")
    with pytest.raises(LoadCsvError, match="line 3 .* got 1"):
        db.execute("LOAD CSV FROM 'short.csv' WITH HEADER AS row RETURN row")
    assert rows(db, "LOAD CSV WITH HEADERS FROM 'short.csv' AS row RETURN row.b") == [("2",), (None,)]
    (imports / "quote.csv").write_text('a,b\n1,2\n3,"x"y\n7,8\n')
    with pytest.raises(LoadCsvError, match="line 3 is not a valid row.*IGNORE BAD"):
        db.execute("LOAD CSV WITH HEADERS FROM 'quote.csv' AS row RETURN row")
    got = rows(db, "LOAD CSV WITH HEADERS FROM 'quote.csv' IGNORE BAD AS row RETURN row.a, linenumber()")
    assert got == [("1", 2), ("7", 4)]


def test_quoted_fields_span_lines_and_linenumber_is_where_a_row_starts(db, imports):
    (imports / "multi.csv").write_text('k,v\n1,"two\nlines"\n2,""""\n\n3,x\n')
    got = rows(db, "LOAD CSV WITH HEADERS FROM 'multi.csv' AS row RETURN row.k, row.v, linenumber()")
    assert got == [("1", "two\nlines", 2), ("2", '"', 4), ("3", "x", 6)]  # line 5 is blank


def test_records_are_the_csv_modules_on_random_text(tmp_path):
    """The reader splits a line without a quote itself and gives the rest to
    the csv module: on any text, the records, their lines and which records
    are bad are those the csv module alone gives (Memgraph's form, where
    fields stay text); Neo4j's form differs only in empty fields made null,
    all of them where nothing is quoted."""
    import csv
    import random

    from weftdb.query import load_csv

    rng = random.Random(20261206)
    pieces = ["a", "bc", ",", '"', '""', "\n", "\r\n", "\r", " ", "7", "é"]
    path = tmp_path / "random.csv"
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 24)))
        path.write_bytes(text.encode())
        expected, reader = [], csv.reader(io.StringIO(text, newline=""), strict=True)
        try:
            line = 0
            for fields in reader:
                if fields:
                    expected.append((line + 1, fields))
                line = reader.line_num
        except csv.Error:
            expected.append("bad")
        got = []
        try:
            got.extend(load_csv.read_rows(str(path), "random.csv", load_csv.Options(empty_is_null=False)))
        except LoadCsvError:
            got.append("bad")
        assert got == expected, text
        if "bad" not in got:
            nulled = list(load_csv.read_rows(str(path), "random.csv", load_csv.Options()))
            assert [line for line, _ in nulled] == [line for line, _ in got]
            for (_, text_fields), (_, fields) in zip(got, nulled):
                if '"' not in text:  # nothing quoted: every empty field is null
                    assert fields == [field or None for field in text_fields]
                else:
                    assert all(n == f or (f == "" and n is None) for f, n in zip(text_fields, fields, strict=True))


def test_a_header_maps_each_record_as_dict_of_zip_would(tmp_path):
    """Records of every width, the short ones the reader compiles a map for
    and the wider ones: each is the header's names zipped with its fields,
    a repeated name keeping its last field, and a short row of Neo4j's form
    padded with null."""
    import random

    from weftdb.query import load_csv

    rng = random.Random(20261207)
    path = tmp_path / "header.csv"
    for width in range(1, 10):
        for _ in range(20):
            header = [rng.choice(["a", "b", "c", "id", "é"]) for _ in range(width)]
            rows = [[str(rng.randrange(100)) for _ in range(width)] for _ in range(5)]
            path.write_text("\n".join(",".join(row) for row in [header, *rows, rows[0][:-1]]) + "\n")
            got = list(load_csv.read_rows(str(path), "header.csv", load_csv.Options(header=True)))
            padded = [*rows, rows[0][:-1] + [None]] if width > 1 else rows  # one field less: a blank line
            assert got == [(line, dict(zip(header, row))) for line, row in enumerate(padded, start=2)]


def test_syntax_of_both_forms(db):
    with pytest.raises(CypherSemanticError, match="cannot end with LOAD CSV"):
        db.execute("LOAD CSV FROM 'people.csv' AS row")
    with pytest.raises(CypherSyntaxError):
        db.execute("LOAD CSV WITH HEADERS FROM 'people.csv' WITH HEADER AS row RETURN row")
    with pytest.raises(Exception, match="already declared"):
        db.execute("WITH 1 AS row LOAD CSV FROM 'people.csv' AS row RETURN row")


def test_load_csv_once_per_input_row_and_with_a_parameter(db):
    got = rows(db, "UNWIND ['people.csv', 'file:///people.csv'] AS f LOAD CSV FROM f AS row RETURN f, count(*)")
    assert sorted(got) == [("file:///people.csv", 4), ("people.csv", 4)]


def test_rows_stream_a_file_larger_than_what_the_query_keeps(tmp_path):
    """A 40 MB CSV (a gzip file of 0.2 MB) counted with a filter: the process
    grows by far less than the file, since rows are read as they are used."""
    script = textwrap.dedent("""
        import gzip, resource, sys, weftdb
        directory = sys.argv[1]
        with gzip.open(directory + "/big.csv.gz", "wt", compresslevel=1) as out:
            out.write("id,text\\n")
            line = "x" * 600
            for i in range(64_000):
                out.write(f"{i},{line}\\n")
        db = weftdb.open(import_directory=directory)
        db.execute("RETURN 1")
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        n = db.execute("LOAD CSV WITH HEADERS FROM 'big.csv.gz' AS row WITH row WHERE row.id ENDS WITH '7' "
                       "RETURN count(*)").single()
        grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
        print(n, grown // 1024)
    """)
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    count, grown_mib = map(int, out.stdout.split())
    assert count == 6_400
    assert grown_mib < 20, f"the process grew by {grown_mib} MiB reading a 40 MB file"
