from django.db import migrations

# The audit log is append-only for every database client, not only for the application:
# UPDATE and DELETE raise. (TRUNCATE, an operator's act, is not covered.)
SQL = """
CREATE OR REPLACE FUNCTION access_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'Le journal d''audit est en ajout seul : % refusé.', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER access_auditevent_no_update_delete
    BEFORE UPDATE OR DELETE ON access_auditevent
    FOR EACH ROW EXECUTE FUNCTION access_auditevent_append_only();
"""

REVERSE = """
DROP TRIGGER IF EXISTS access_auditevent_no_update_delete ON access_auditevent;
DROP FUNCTION IF EXISTS access_auditevent_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("access", "0002_initial")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
