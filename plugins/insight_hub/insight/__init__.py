"""What managers receive: scoped insight extracts (charts, tables, an XLSX) and notices when the data
is not ready, sent after each successful transform."""
