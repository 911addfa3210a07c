"""The checks of apps/neo4j_app.py, which runs under the neo4j Python driver 5 and 6:
what each one asks of the server, as a failure message names it."""

VALUE_NAMES = {
    "null": "null", "bool": "a boolean", "int": "a 64-bit integer", "float": "a float",
    "string": "a non-ASCII string", "list": "a nested list", "map": "a nested map", "date": "a date",
    "time": "a time with a UTC offset", "localtime": "a local time",
    "datetime_offset": "a datetime with a UTC offset", "datetime_zone": "a datetime with a zone id",
    "localdatetime": "a local datetime", "duration": "a duration",
}

CHECKS = {
    "connect": "verify_connectivity() with auth=None",
    "connect_with_credentials": "connecting with auth=('neo4j', 'password') to a server without users",
    "server_agent": "the server agent the driver sees starts with 'Neo4j/'",
    "dbms_components": "CALL dbms.components() answers name, versions, edition",
    "database_neo4j": "execute_query(..., database_='neo4j') reaches the database",
    "show_databases": "SHOW DATABASES lists the database with name or alias 'neo4j'",
    "create_index": "execute_query('CREATE INDEX name IF NOT EXISTS FOR (p:L) ON (p.x)') reports indexes_added=1",
    "create_constraint": "execute_query('CREATE CONSTRAINT name IF NOT EXISTS FOR (p:L) REQUIRE p.x IS UNIQUE') "
                         "reports constraints_added=1",
    "schema_if_not_exists_again": "the same CREATE ... IF NOT EXISTS statements again succeed and add nothing",
    "relationship_index": "CREATE INDEX ... FOR ()-[r:T]-() ON (r.p) reports indexes_added=1",
    "composite_unique_constraint": "a composite REQUIRE (e.a, e.b) IS UNIQUE constraint is created and enforced",
    "show_indexes": "SHOW INDEXES lists the index with Neo4j's columns",
    "show_constraints": "SHOW CONSTRAINTS lists the constraint with Neo4j's columns",
    "drop_index_if_exists": "DROP INDEX/CONSTRAINT missing IF EXISTS succeeds",
    "memgraph_index_syntax": "execute_query('CREATE INDEX ON :L(p)') (Memgraph's syntax) reports indexes_added=1",
    "write_with_parameters": "CREATE with parameters, and its counters",
    "unwind_batch": "UNWIND $rows CREATE of 200 rows",
    **{f"value_{name}": f"reading back {text} (a literal, a parameter, a stored property)" for name, text in VALUE_NAMES.items()},
    "value_node": "reading back a node (labels, properties, element_id)",
    "value_relationship": "reading back a relationship (type, properties, its ends' element ids)",
    "value_path": "reading back a path",
    "element_id_lookup": "elementId(n) equals the element_id the driver received, and MATCH ... WHERE elementId(n) = $id finds it",
    "explicit_commit": "an explicit transaction commits",
    "explicit_rollback": "an explicit transaction sees its write and rolls back",
    "managed_transactions": "session.execute_write / execute_read",
    "syntax_error": "a syntax error raises CypherSyntaxError",
    "constraint_violation": "a uniqueness violation raises ConstraintError",
    "unknown_procedure": "an unknown procedure is Neo.ClientError.Procedure.ProcedureNotFound",
    "session_after_error": "a session runs again after an error",
    "explain_plan": "EXPLAIN puts the plan in summary.plan",
    "profile_plan": "PROFILE puts the profiled plan (with rows) in summary.profile",
    "db_schema_procedures": "CALL db.labels(), db.relationshipTypes(), db.propertyKeys()",
    "show_procedures": "SHOW PROCEDURES lists dbms.components and db.labels",
}
