"""Helpers on the test database shared by the suite's fixtures."""

from __future__ import annotations

from psycopg import sql


def ensure_referential() -> None:
    """Load the départements and communes again if a transactional test emptied them."""
    from django.db import connection, transaction

    from binome.territories.models import Department
    from binome.territories.referential import load_referential

    if not Department.objects.exists():
        with transaction.atomic():
            load_referential(connection)


class DatabaseSnapshot:
    """Every row of every table, and every sequence, copied out once and put back at will.

    Loading the demo territory through the ORM takes seconds; putting its rows back with
    COPY takes a fraction of that. Triggers are off while the rows go back (they were on
    when the rows were first written: counters and search columns are already in them).
    """

    def __init__(self) -> None:
        from django.db import connection

        self.tables: dict[str, bytes] = {}
        self.sequences: dict[str, tuple[int, bool]] = {}
        with connection.cursor() as cursor:
            # The tables, a partitioned one (the audit log's months) as its parent only: its
            # rows are read through it and written back through it to their partitions.
            cursor.execute(
                "SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace "
                "AND relkind IN ('r', 'p') AND NOT relispartition ORDER BY relname"
            )
            for (table,) in cursor.fetchall():
                with cursor.cursor.copy(
                    sql.SQL("COPY (SELECT * FROM {}) TO STDOUT (FORMAT binary)").format(
                        sql.Identifier(table)
                    )
                ) as copy:
                    self.tables[table] = b"".join(bytes(chunk) for chunk in copy)
            cursor.execute(
                "SELECT schemaname || '.' || sequencename, last_value FROM pg_sequences "
                "WHERE schemaname = current_schema()"
            )
            for sequence, last_value in cursor.fetchall():
                # A sequence never used has no last value: it starts again at its first.
                self.sequences[sequence] = (last_value or 1, last_value is not None)

    def restore(self) -> None:
        from django.db import connection, transaction

        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE " + ", ".join(f'"{table}"' for table in self.tables) + " CASCADE"
            )
            cursor.execute("SET LOCAL session_replication_role = replica")
            for table, rows in self.tables.items():
                with cursor.cursor.copy(f'COPY "{table}" FROM STDIN (FORMAT binary)') as copy:
                    copy.write(rows)
            for sequence, (last_value, is_called) in self.sequences.items():
                cursor.execute("SELECT setval(%s, %s, %s)", [sequence, last_value, is_called])
