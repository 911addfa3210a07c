// A small app on neo4j-driver for JavaScript (6.x, in .clients/js), written as the
// driver's manual teaches: driver.executeQuery for most work, sessions for explicit
// and managed transactions, Neo4j 5 schema syntax. Run by node with NODE_PATH at
// .clients/js/node_modules; reports its checks as JSON lines (see checklib.py).
'use strict'

const neo4j = require('neo4j-driver')

const URI = process.env.WEFTDB_URI || 'bolt://127.0.0.1:7687'

function emit (message) {
  process.stdout.write(JSON.stringify(message) + '\n')
}

class CheckFailed extends Error {}

function expect (condition, message) {
  if (!condition) throw new CheckFailed(message)
}

function describe (error) {
  if (error instanceof CheckFailed) return error.message
  const code = error.code ? `{code: ${error.code}} ` : ''
  return `${error.constructor.name}: ${code}${error.message}`
}

// A value as comparable text: integers, floats and temporal values keep their kind.
function canon (value) {
  if (value === null || value === undefined) return null
  if (neo4j.isInt(value)) return `int:${value.toString()}`
  if (typeof value === 'number') return `float:${value}`
  if (typeof value === 'string' || typeof value === 'boolean') return value
  if (Array.isArray(value)) return value.map(canon)
  for (const kind of ['Date', 'Time', 'LocalTime', 'DateTime', 'LocalDateTime', 'Duration']) {
    if (value instanceof neo4j.types[kind]) return `${kind}:${value.toString()}`
  }
  if (value.constructor === Object) {
    const out = {}
    for (const key of Object.keys(value).sort()) out[key] = canon(value[key])
    return out
  }
  return `${value.constructor.name}:${JSON.stringify(value)}`
}

function expectEqual (actual, expected, what = 'value') {
  const a = JSON.stringify(canon(actual))
  const e = JSON.stringify(expected)
  expect(a === e, `${what}: expected ${e}, got ${a}`)
}

async function raises (call, code) {
  try {
    await call()
  } catch (error) {
    expect(error instanceof neo4j.Neo4jError, `expected a Neo4jError, got ${describe(error)}`)
    expect(error.code === code, `expected code ${code}, got ${describe(error)}`)
    return error
  }
  throw new CheckFailed(`expected a Neo4jError with code ${code}, nothing was raised`)
}

const checks = []
function check (name, body) {
  checks.push([name, body])
}

// Short retries so that a failing check fails in seconds (nothing sent changes).
const driver = neo4j.driver(URI, undefined, { maxTransactionRetryTime: 3000 })
const q = (query, params) => driver.executeQuery(query, params)

// --- connect -----------------------------------------------------------------

check('connect', async () => {
  await driver.verifyConnectivity()
})

check('connect_with_credentials', async () => {
  // The Neo4j tutorials' line; a server without users lets anyone in.
  const other = neo4j.driver(URI, neo4j.auth.basic('neo4j', 'password'))
  try {
    await other.verifyConnectivity()
  } finally {
    await other.close()
  }
})

check('server_agent', async () => {
  const info = await driver.getServerInfo()
  expect(info.agent.startsWith('Neo4j/'), `server agent ${JSON.stringify(info.agent)} does not start with 'Neo4j/'`)
})

check('dbms_components', async () => {
  const { records } = await q('CALL dbms.components() YIELD name, versions, edition RETURN name, versions, edition')
  expect(records.length === 1, `expected one component, got ${records.length}`)
  expect(typeof records[0].get('versions')[0] === 'string', `no version: ${JSON.stringify(records[0].toObject())}`)
})

check('database_neo4j', async () => {
  const { records } = await driver.executeQuery('RETURN 1 AS one', {}, { database: 'neo4j' })
  expectEqual(records[0].get('one'), 'int:1')
})

check('show_databases', async () => {
  const { records } = await q('SHOW DATABASES')
  const rows = records.map(r => r.toObject())
  expect(rows.some(r => r.name === 'neo4j' || (r.aliases || []).includes('neo4j')),
    `no database named or aliased neo4j in ${JSON.stringify(rows)}`)
})

// --- schema ------------------------------------------------------------------

check('create_index', async () => {
  const { summary } = await q('CREATE INDEX person_name IF NOT EXISTS FOR (p:Person) ON (p.name)')
  expect(summary.counters.updates().indexesAdded === 1, `indexesAdded ${summary.counters.updates().indexesAdded}`)
})

check('create_constraint', async () => {
  const { summary } = await q('CREATE CONSTRAINT person_email IF NOT EXISTS FOR (p:Person) REQUIRE p.email IS UNIQUE')
  expect(summary.counters.updates().constraintsAdded === 1, `constraintsAdded ${summary.counters.updates().constraintsAdded}`)
})

check('schema_if_not_exists_again', async () => {
  await q('CREATE INDEX person_name IF NOT EXISTS FOR (p:Person) ON (p.name)')
  const { summary } = await q('CREATE CONSTRAINT person_email IF NOT EXISTS FOR (p:Person) REQUIRE p.email IS UNIQUE')
  expect(summary.counters.updates().constraintsAdded === 0, 'the second CREATE CONSTRAINT IF NOT EXISTS added one')
})

check('show_indexes', async () => {
  const { records, keys } = await q('SHOW INDEXES')
  for (const column of ['name', 'type', 'entityType', 'labelsOrTypes', 'properties']) {
    expect(keys.includes(column), `SHOW INDEXES has no column ${column}: ${keys}`)
  }
  const row = records.map(r => r.toObject()).find(r => r.name === 'person_name')
  expect(row, 'person_name is not listed')
  expectEqual(row.labelsOrTypes, ['Person'], 'labelsOrTypes')
})

check('show_index_info', async () => {
  // Memgraph's listing, as a Memgraph user types it.
  const { records } = await q('SHOW INDEX INFO')
  expect(records.length >= 1, 'SHOW INDEX INFO lists nothing')
})

check('drop_index_if_exists', async () => {
  await q('DROP INDEX no_such_index IF EXISTS')
})

check('memgraph_index_syntax', async () => {
  const { summary } = await q('CREATE INDEX ON :City(name)')
  expect(summary.counters.updates().indexesAdded === 1, `indexesAdded ${summary.counters.updates().indexesAdded}`)
})

// --- writes with parameters ----------------------------------------------------

check('write_with_parameters', async () => {
  const { records, summary } = await q(
    'CREATE (p:Person {name: $name, email: $email, age: $age}) RETURN p.name AS name',
    { name: 'Ann', email: 'ann@example.com', age: neo4j.int(31) })
  expectEqual(records[0].get('name'), 'Ann')
  expect(summary.counters.updates().nodesCreated === 1, `nodesCreated ${summary.counters.updates().nodesCreated}`)
  expect(summary.counters.updates().propertiesSet === 3, `propertiesSet ${summary.counters.updates().propertiesSet}`)
})

check('unwind_batch', async () => {
  const rows = Array.from({ length: 200 }, (_, i) => ({ name: `p${i}`, n: i }))
  await q('UNWIND $rows AS row CREATE (:Batch {name: row.name, n: row.n})', { rows })
  const { records } = await q('MATCH (b:Batch) RETURN count(b) AS c, sum(b.n) AS s')
  expectEqual([records[0].get('c'), records[0].get('s')], ['int:200', 'float:19900'])
})

// --- every value type, as a literal and sent back as a parameter ---------------------

const VALUES = {
  null: ['null', null],
  bool: ['true', true],
  int: ['-9007199254740993', 'int:-9007199254740993'],
  float: ['2.5e-3', 'float:0.0025'],
  string: ["'grüße, 世界 \u{1F600}'", 'grüße, 世界 \u{1F600}'],
  list: ["[1, 'two', [3.0, null], {four: 4}]", ['int:1', 'two', ['float:3', null], { four: 'int:4' }]],
  map: ["{a: 1, b: 'two', c: [true, false], d: {e: null}}", { a: 'int:1', b: 'two', c: [true, false], d: { e: null } }],
  date: ["date('2024-02-29')", 'Date:2024-02-29'],
  time: ["time('12:34:56.123456+02:00')", 'Time:12:34:56.123456000+02:00'],
  localtime: ["localtime('23:59:58.000001')", 'LocalTime:23:59:58.000001000'],
  datetime_offset: ["datetime('2024-06-01T12:30:45.123456-05:00')", 'DateTime:2024-06-01T12:30:45.123456000-05:00'],
  datetime_zone: ["datetime('2024-06-01T12:30:45.123456[Europe/Berlin]')", 'DateTime:2024-06-01T12:30:45.123456000+02:00[Europe/Berlin]'],
  localdatetime: ["localdatetime('2024-01-02T03:04:05.678901')", 'LocalDateTime:2024-01-02T03:04:05.678901000'],
  duration: ["duration('P1Y2M10DT3H4M5.000006S')", 'Duration:P1Y2M10DT3H4M5.000006000S']
}

for (const [name, [cypher, expected]] of Object.entries(VALUES)) {
  check(`value_${name}`, async () => {
    const { records } = await q(`RETURN ${cypher} AS literal`)
    const literal = records[0].get('literal')
    expectEqual(literal, expected, 'literal')
    const back = await q('RETURN $v AS v', { v: literal })
    expectEqual(back.records[0].get('v'), expected, 'parameter')
  })
}

check('value_node', async () => {
  const { records } = await q("CREATE (n:Person:Employee {name: 'Val', email: 'val@example.com'}) RETURN n")
  const node = records[0].get('n')
  expect(node instanceof neo4j.types.Node, `not a Node: ${node}`)
  expectEqual(node.labels.slice().sort(), ['Employee', 'Person'], 'labels')
  expectEqual(node.properties, { email: 'val@example.com', name: 'Val' }, 'properties')
  expect(typeof node.elementId === 'string' && node.elementId, `elementId ${node.elementId}`)
})

check('value_relationship', async () => {
  const { records } = await q("CREATE (a:Person {name: 'Rel A'})-[r:KNOWS {since: 2020}]->(b:Person {name: 'Rel B'}) RETURN a, r, b")
  const [a, r, b] = ['a', 'r', 'b'].map(k => records[0].get(k))
  expect(r instanceof neo4j.types.Relationship, `not a Relationship: ${r}`)
  expectEqual(r.type, 'KNOWS', 'type')
  expectEqual(r.properties, { since: 'int:2020' }, 'properties')
  expectEqual([r.startNodeElementId, r.endNodeElementId], [a.elementId, b.elementId], 'ends')
})

check('value_path', async () => {
  await q('CREATE (:Hop {i: 0})-[:NEXT]->(:Hop {i: 1})-[:NEXT]->(:Hop {i: 2})')
  const { records } = await q('MATCH p = (:Hop {i: 0})-[:NEXT*2]->() RETURN p')
  const path = records[0].get('p')
  expect(path instanceof neo4j.types.Path, `not a Path: ${path}`)
  expectEqual(path.segments.map(s => s.relationship.type), ['NEXT', 'NEXT'], 'relationships')
  expectEqual(path.end.properties.i, 'int:2', 'end')
})

check('element_id_lookup', async () => {
  const { records } = await q("MATCH (n:Person {name: 'Ann'}) RETURN n, elementId(n) AS eid")
  const node = records[0].get('n')
  expectEqual(records[0].get('eid'), node.elementId, 'elementId(n) against the elementId the driver received')
  const found = await q('MATCH (n) WHERE elementId(n) = $id RETURN n.name AS name', { id: node.elementId })
  expectEqual(found.records.map(r => r.get('name')), ['Ann'], 'MATCH by elementId')
})

// --- transactions -------------------------------------------------------------

async function countOf (name) {
  const { records } = await q('MATCH (t:Tx {name: $name}) RETURN count(t) AS c', { name })
  return records[0].get('c').toNumber()
}

check('explicit_commit', async () => {
  const session = driver.session()
  try {
    const tx = session.beginTransaction()
    await tx.run("CREATE (:Tx {name: 'committed'})")
    await tx.commit()
  } finally {
    await session.close()
  }
  expect(await countOf('committed') === 1, 'the committed node is not there')
})

check('explicit_rollback', async () => {
  const session = driver.session()
  let inside
  try {
    const tx = session.beginTransaction()
    await tx.run("CREATE (:Tx {name: 'rolled back'})")
    inside = (await tx.run("MATCH (t:Tx {name: 'rolled back'}) RETURN count(t) AS c")).records[0].get('c').toNumber()
    await tx.rollback()
  } finally {
    await session.close()
  }
  const after = await countOf('rolled back')
  expect(inside === 1 && after === 0, `seen inside ${inside}, after rollback ${after}`)
})

check('managed_transactions', async () => {
  const session = driver.session()
  try {
    await session.executeWrite(tx => tx.run("CREATE (:Tx {name: 'managed'})"))
    const count = await session.executeRead(async tx =>
      (await tx.run("MATCH (t:Tx {name: 'managed'}) RETURN count(t) AS c")).records[0].get('c').toNumber())
    expect(count === 1, `managed write read back ${count} times`)
  } finally {
    await session.close()
  }
})

// --- errors -------------------------------------------------------------------

check('syntax_error', async () => {
  await raises(() => q('RETURN RETURN'), 'Neo.ClientError.Statement.SyntaxError')
})

check('constraint_violation', async () => {
  // A constraint made as docs/server.md says works today (Memgraph's syntax, on
  // its own), so that this check is about the error alone.
  const session = driver.session()
  try {
    await session.run('CREATE CONSTRAINT ON (a:Account) ASSERT a.id IS UNIQUE')
  } finally {
    await session.close()
  }
  await q('CREATE (:Account {id: 1})')
  await raises(() => q('CREATE (:Account {id: 1})'), 'Neo.ClientError.Schema.ConstraintValidationFailed')
})

check('unknown_procedure', async () => {
  await raises(() => q('CALL no.such.procedure()'), 'Neo.ClientError.Procedure.ProcedureNotFound')
})

check('session_after_error', async () => {
  const session = driver.session()
  try {
    await session.run('RETURN RETURN').catch(() => null)
    const { records } = await session.run('RETURN 41 + 1 AS x')
    expectEqual(records[0].get('x'), 'int:42')
  } finally {
    await session.close()
  }
})

// --- plans and procedures --------------------------------------------------------

check('explain_plan', async () => {
  const { summary } = await q("EXPLAIN MATCH (p:Person) WHERE p.name = 'Ann' RETURN p")
  expect(summary.hasPlan() && summary.plan.operatorType, `summary.plan is ${JSON.stringify(summary.plan)}`)
})

check('profile_plan', async () => {
  const { summary } = await q('PROFILE MATCH (p:Person) RETURN p.name')
  expect(summary.hasProfile() && summary.profile.operatorType, `summary.profile is ${JSON.stringify(summary.profile)}`)
})

check('db_schema_procedures', async () => {
  const labels = (await q('CALL db.labels() YIELD label RETURN label')).records.map(r => r.get('label'))
  const types = (await q('CALL db.relationshipTypes() YIELD relationshipType RETURN relationshipType')).records.map(r => r.get('relationshipType'))
  expect(labels.includes('Person') && types.includes('KNOWS'), `labels ${labels}, types ${types}`)
})

async function main () {
  emit({ info: { client: 'neo4j-driver for JavaScript', version: require('neo4j-driver/package.json').version, node: process.version } })
  for (const [name, body] of checks) {
    emit({ start: name })
    let timer
    const timeout = new Promise((resolve, reject) => {
      timer = setTimeout(() => reject(new CheckFailed('the check did not finish in 20 s')), 20000)
    })
    try {
      await Promise.race([body(), timeout])
      emit({ check: name, ok: true })
    } catch (error) {
      if (process.env.WEFTDB_APP_TRACEBACK) console.error(error)
      emit({ check: name, ok: false, error: describe(error) })
    } finally {
      clearTimeout(timer)
    }
  }
  await driver.close()
}

// A check that timed out may leave work pending: leave once all are reported.
main().then(() => process.exit(0))
