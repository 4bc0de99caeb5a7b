"""Data quality: Great Expectations suites run inside PostgreSQL against staged batches."""
