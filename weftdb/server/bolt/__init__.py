"""The Bolt protocol without I/O: `packstream` (the value codec), `values`
(WeftDB values in each version's shapes) and `protocol` (handshake, chunk
framing and the message state machine). `weftdb.server.connection` drives it
over asyncio; tests drive it with bytes."""
