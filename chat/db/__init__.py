"""PostgreSQL access: psycopg's sync API on worker threads, bounded by the pool size."""
