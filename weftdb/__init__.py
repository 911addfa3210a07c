"""WeftDB: a durable property-graph database."""
