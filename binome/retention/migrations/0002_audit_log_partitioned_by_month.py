"""The audit log becomes a table partitioned by month (PostgreSQL declarative partitioning):
its expiry is dropping a month's partition, never a DELETE, which stays refused.

The existing rows are copied into monthly partitions (from the month of the oldest row to
three months ahead; a DEFAULT partition catches a row dated outside them, so that writing
the log never fails); the table keeps its columns, its indexes (recreated under the same
names, on every partition) and its append-only trigger (cloned to every partition, present
and future). The primary key becomes (id, created_at): PostgreSQL requires the partition key
in it; ``id`` stays unique by its identity sequence.
"""

from django.db import migrations

FORWARD = r"""
CREATE TEMP TABLE _audit_indexes ON COMMIT DROP AS
    SELECT indexname, indexdef FROM pg_indexes
    WHERE schemaname = current_schema() AND tablename = 'access_auditevent'
      AND indexname <> 'access_auditevent_pkey';

ALTER TABLE access_auditevent RENAME TO access_auditevent_unpartitioned;
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT indexname FROM _audit_indexes LOOP
        EXECUTE format('DROP INDEX %I', r.indexname);
    END LOOP;
END $$;
ALTER TABLE access_auditevent_unpartitioned DROP CONSTRAINT access_auditevent_pkey;

CREATE TABLE access_auditevent (
    LIKE access_auditevent_unpartitioned
    INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING CONSTRAINTS INCLUDING STORAGE
) PARTITION BY RANGE (created_at);
ALTER TABLE access_auditevent ADD CONSTRAINT access_auditevent_pkey PRIMARY KEY (id, created_at);

DO $$
DECLARE
    month date;
    last date := (date_trunc('month', now() AT TIME ZONE 'UTC') + interval '3 months')::date;
BEGIN
    SELECT date_trunc('month', coalesce(min(created_at), now()) AT TIME ZONE 'UTC')::date
      INTO month FROM access_auditevent_unpartitioned;
    WHILE month < last LOOP
        EXECUTE format(
            'CREATE TABLE %I PARTITION OF access_auditevent FOR VALUES FROM (%L) TO (%L)',
            'access_auditevent_' || to_char(month, 'YYYY_MM'),
            month::timestamp AT TIME ZONE 'UTC',
            (month + interval '1 month')::timestamp AT TIME ZONE 'UTC'
        );
        month := (month + interval '1 month')::date;
    END LOOP;
END $$;
CREATE TABLE access_auditevent_default PARTITION OF access_auditevent DEFAULT;

INSERT INTO access_auditevent SELECT * FROM access_auditevent_unpartitioned;
SELECT setval(
    pg_get_serial_sequence('access_auditevent', 'id'),
    coalesce((SELECT max(id) FROM access_auditevent), 0) + 1,
    false
);
DROP TABLE access_auditevent_unpartitioned;

DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT indexdef FROM _audit_indexes LOOP
        EXECUTE r.indexdef;
    END LOOP;
END $$;

CREATE TRIGGER access_auditevent_no_update_delete
    BEFORE UPDATE OR DELETE ON access_auditevent
    FOR EACH ROW EXECUTE FUNCTION access_auditevent_append_only();
"""

# Back to one table (the rows of the partitions still there are kept).
REVERSE = r"""
CREATE TEMP TABLE _audit_indexes ON COMMIT DROP AS
    SELECT indexname, indexdef FROM pg_indexes
    WHERE schemaname = current_schema() AND tablename = 'access_auditevent'
      AND indexname <> 'access_auditevent_pkey';
ALTER TABLE access_auditevent RENAME TO access_auditevent_partitioned;
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT indexname FROM _audit_indexes LOOP
        EXECUTE format('DROP INDEX %I', r.indexname);
    END LOOP;
END $$;
ALTER TABLE access_auditevent_partitioned DROP CONSTRAINT access_auditevent_pkey;
CREATE TABLE access_auditevent (
    LIKE access_auditevent_partitioned
    INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING CONSTRAINTS INCLUDING STORAGE
);
ALTER TABLE access_auditevent ADD CONSTRAINT access_auditevent_pkey PRIMARY KEY (id);
INSERT INTO access_auditevent SELECT * FROM access_auditevent_partitioned;
SELECT setval(
    pg_get_serial_sequence('access_auditevent', 'id'),
    coalesce((SELECT max(id) FROM access_auditevent), 0) + 1,
    false
);
DROP TABLE access_auditevent_partitioned;
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT indexdef FROM _audit_indexes LOOP
        EXECUTE r.indexdef;
    END LOOP;
END $$;
CREATE TRIGGER access_auditevent_no_update_delete
    BEFORE UPDATE OR DELETE ON access_auditevent
    FOR EACH ROW EXECUTE FUNCTION access_auditevent_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("retention", "0001_initial"),
        ("access", "0012_audit_kinds_rsa_childcare_steering_retention"),
    ]

    operations = [migrations.RunSQL(FORWARD, REVERSE)]
