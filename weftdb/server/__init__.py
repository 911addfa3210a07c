"""The network face of WeftDB: a Bolt server (asyncio) that the neo4j driver and
pymgclient talk to unchanged, driving the same Database object as the embedded API."""
