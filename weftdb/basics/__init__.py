"""Shared basics: errors, configuration flags, and the value types several layers use."""
