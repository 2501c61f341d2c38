"""PostgreSQL enforces the ledger's rules itself, raw SQL included (a no-op on SQLite).

- At commit (DEFERRABLE INITIALLY DEFERRED constraint triggers): the postings of every journal
  touched by the transaction sum to exactly zero, and every journal inserted has postings.
  Deferred, so a journal and its postings can be inserted by several statements.
- Always: UPDATE and DELETE of ledger_journal and ledger_posting rows are refused (append-only).
  TRUNCATE fires no row trigger, so test-database flushes (and a deliberate administrative
  wipe) still work; nothing in the application truncates the ledger.

Both raise SQLSTATE class 23 (integrity constraint violation), so Django raises IntegrityError.
"""

from django.db import migrations

FORWARD_SQL = [
    """
    CREATE FUNCTION ledger_posting_journal_balanced() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        total numeric;
    BEGIN
        SELECT COALESCE(SUM(amount), 0) INTO total
        FROM ledger_posting WHERE journal_id = NEW.journal_id;
        IF total <> 0 THEN
            RAISE EXCEPTION 'ledger journal % is unbalanced: its postings sum to %',
                NEW.journal_id, total
                USING ERRCODE = 'check_violation',
                      CONSTRAINT = 'ledger_posting_journal_balanced';
        END IF;
        RETURN NULL;
    END
    $$;
    """,
    """
    CREATE CONSTRAINT TRIGGER ledger_posting_journal_balanced
    AFTER INSERT ON ledger_posting
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_posting_journal_balanced();
    """,
    """
    CREATE FUNCTION ledger_journal_has_postings() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF NOT EXISTS (SELECT 1 FROM ledger_posting WHERE journal_id = NEW.id) THEN
            RAISE EXCEPTION 'ledger journal % has no postings', NEW.id
                USING ERRCODE = 'check_violation',
                      CONSTRAINT = 'ledger_journal_has_postings';
        END IF;
        RETURN NULL;
    END
    $$;
    """,
    """
    CREATE CONSTRAINT TRIGGER ledger_journal_has_postings
    AFTER INSERT ON ledger_journal
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_journal_has_postings();
    """,
    """
    CREATE FUNCTION ledger_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'restrict_violation',
                  HINT = 'Correct the ledger with a new journal (ledger.services.journal_reverse).';
    END
    $$;
    """,
    """
    CREATE TRIGGER ledger_posting_append_only
    BEFORE UPDATE OR DELETE ON ledger_posting
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
    """,
    """
    CREATE TRIGGER ledger_journal_append_only
    BEFORE UPDATE OR DELETE ON ledger_journal
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
    """,
]

REVERSE_SQL = [
    "DROP TRIGGER IF EXISTS ledger_journal_append_only ON ledger_journal;",
    "DROP TRIGGER IF EXISTS ledger_posting_append_only ON ledger_posting;",
    "DROP FUNCTION IF EXISTS ledger_refuse_change();",
    "DROP TRIGGER IF EXISTS ledger_journal_has_postings ON ledger_journal;",
    "DROP FUNCTION IF EXISTS ledger_journal_has_postings();",
    "DROP TRIGGER IF EXISTS ledger_posting_journal_balanced ON ledger_posting;",
    "DROP FUNCTION IF EXISTS ledger_posting_journal_balanced();",
]


def _run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement, params=None)

    return apply


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [
        migrations.RunPython(_run(FORWARD_SQL), _run(REVERSE_SQL), elidable=False),
    ]
