"""Backup drill: ``binome db dump`` while the database is written to, ``binome db restore``
into a fresh cluster, and every table compared — row count and a checksum of its rows.

Run on a data set of its own (not the development one):

    BINOME_VAR_DIR=/tmp/bench-drill .venv/bin/binome generate --scale departement
    BINOME_VAR_DIR=/tmp/bench-drill .venv/bin/python bench/drill_backup.py

What it does:

1. starts a writer process (unless ``DRILL_WRITES=0``, e.g. when ``binome bench soak`` already
   runs on the same database): it creates and marks read in-app notifications, in small
   transactions, as fast as it can, for the whole drill;
2. opens a ``REPEATABLE READ`` transaction on the source and exports its snapshot
   (``pg_export_snapshot``); ``binome db dump FILE --snapshot=ID`` dumps exactly what that
   transaction sees, however much is written meanwhile; the checksums of the source are
   computed in that same transaction, so both sides describe the same instant;
3. ``binome db restore FILE`` with ``BINOME_VAR_DIR`` set to a new directory: a new cluster
   is created, the dump restored into it in one transaction;
4. for each table (a partitioned one through its parent): ``count(*)`` and the sum of the
   first 64 bits of the MD5 of each row's text — independent of the rows' order, changed
   by any changed value — on both sides. Any difference fails the drill (exit 1);
5. stops the new cluster and deletes it, deletes the notifications it wrote.

DRILL_WRITES=0       no writer (another process writes)
DRILL_KEEP=DIR       restore into DIR and keep it (default: a temporary directory, deleted)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "binome.settings")

WRITES = os.environ.get("DRILL_WRITES", "1") != "0"
KEEP = os.environ.get("DRILL_KEEP", "")
MARK = "exercice-sauvegarde"

TABLES_SQL = (
    "SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace "
    "AND relkind IN ('r', 'p') AND NOT relispartition ORDER BY relname"
)
# What the whole cluster committed, and the rows it wrote: read before and after the dump.
ACTIVITY_SQL = (
    "SELECT sum(xact_commit), sum(tup_inserted + tup_updated + tup_deleted) FROM pg_stat_database"
)
CHECKSUM_SQL = (
    "SELECT count(*), coalesce(sum(('x' || substr(md5(t::text), 1, 16))::bit(64)::bigint), 0) "
    "FROM {} t"
)

WRITER = f"""
import django, itertools, time
django.setup()
from django.db import transaction
from binome.accounts.models import User
from binome.notifications.models import Notification
users = list(User.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True)[:200])
for number in itertools.count():
    with transaction.atomic():
        note = Notification.objects.create(
            recipient_id=users[number % len(users)], kind="referral_received",
            title="Exercice de sauvegarde", body="Écrit pendant la sauvegarde.",
            url="/", dedup_key="{MARK}-%d" % number,
        )
    if number % 3 == 0:
        Notification.objects.filter(pk=note.pk).update(title="Exercice de sauvegarde (lue)")
    time.sleep(0.005)
"""


def binome(*args: str, env: dict[str, str] | None = None) -> None:
    subprocess.run(
        [sys.executable, "-c", "from binome.cli import main; main()", *args],
        cwd=ROOT,
        env=env or os.environ.copy(),
        check=True,
    )


def checksums(cursor) -> dict[str, tuple[int, int]]:  # type: ignore[no-untyped-def]
    from psycopg import sql

    cursor.execute(TABLES_SQL)
    tables = [row[0] for row in cursor.fetchall()]
    out = {}
    for table in tables:
        cursor.execute(sql.SQL(CHECKSUM_SQL).format(sql.Identifier(table)).as_string())
        count, total = cursor.fetchone()
        out[table] = (int(count), int(total))
    return out


def main() -> None:
    import django

    django.setup()
    from django.db import connection

    from binome.core import embedded_pg
    from binome.notifications.models import Notification

    source_var = embedded_pg.var_dir()
    target_var = Path(KEEP) if KEEP else Path(tempfile.mkdtemp(prefix="binome-drill-"))
    dump = Path(tempfile.mkdtemp(prefix="binome-drill-dump-")) / "binome.dump"
    writer = None
    if WRITES:
        writer = subprocess.Popen([sys.executable, "-c", WRITER], cwd=ROOT, env=os.environ.copy())
        deadline = time.monotonic() + 120
        while not Notification.objects.filter(dedup_key__startswith=MARK).exists():
            if time.monotonic() > deadline or writer.poll() is not None:
                sys.exit("exercice : le processus qui écrit n'a rien écrit")
            time.sleep(0.5)
    try:
        before = Notification.objects.filter(dedup_key__startswith=MARK).count()
        with connection.cursor() as cursor:
            cursor.execute(ACTIVITY_SQL)
            activity_before = cursor.fetchone()
            cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
            cursor.execute("SELECT pg_export_snapshot()")
            (snapshot,) = cursor.fetchone()
            started = time.perf_counter()
            binome("db", "dump", str(dump), f"--snapshot={snapshot}")
            dumped = time.perf_counter() - started
            source = checksums(cursor)
            cursor.execute("COMMIT")
            # Statistics are those of the moment in a transaction: read them outside it.
            cursor.execute(ACTIVITY_SQL)
            activity_after = cursor.fetchone()
        commits = int(activity_after[0] - activity_before[0])
        changed = int(activity_after[1] - activity_before[1])
        written = Notification.objects.filter(dedup_key__startswith=MARK).count() - before
        if writer is not None:
            writer.terminate()
            writer.wait(timeout=30)
            writer = None

        started = time.perf_counter()
        binome("db", "restore", str(dump), env={**os.environ, "BINOME_VAR_DIR": str(target_var)})
        restored_in = time.perf_counter() - started
        import psycopg

        target_env = {**os.environ, "BINOME_VAR_DIR": str(target_var)}
        os.environ["BINOME_VAR_DIR"] = str(target_var)
        target_socket = embedded_pg.socket_dir()
        os.environ["BINOME_VAR_DIR"] = str(source_var)
        with (
            psycopg.connect(
                host=target_socket, user=embedded_pg.DB_USER, dbname=embedded_pg.DB_NAME
            ) as target_connection,
            target_connection.cursor() as cursor,
        ):
            target = checksums(cursor)

        different = sorted(
            table
            for table in source.keys() | target.keys()
            if source.get(table) != target.get(table)
        )
        rows = sum(count for count, _ in source.values())
        print(
            f"dump: {dump.stat().st_size / 1e6:.1f} Mo en {dumped:.1f} s, pendant que "
            f"{written} notifications de l'exercice étaient écrites ; restauration en "
            f"{restored_in:.1f} s"
        )
        print(
            f"pendant le dump et les sommes de contrôle de la source, le cluster a validé "
            f"{commits} transactions et écrit {changed} lignes (insérées, modifiées, supprimées ; "
            f"l'exercice compris)"
        )
        print(f"{len(source)} tables, {rows} lignes à l'instant de la sauvegarde")
        for table in different:
            print(f"  DIFFÉRENT {table}: source {source.get(table)} restaurée {target.get(table)}")
        if different:
            print(f"ÉCHEC : {len(different)} table(s) différente(s)")
        else:
            print("OK : mêmes lignes et mêmes sommes de contrôle dans toutes les tables")
        subprocess.run(
            [sys.executable, "-c", "from binome.cli import main; main()", "db", "stop"],
            cwd=ROOT,
            env=target_env,
            check=False,
        )
    finally:
        if writer is not None:
            writer.terminate()
            writer.wait(timeout=30)
        Notification.objects.filter(dedup_key__startswith=MARK).delete()
        shutil.rmtree(dump.parent, ignore_errors=True)
        if not KEEP:
            shutil.rmtree(target_var, ignore_errors=True)
    sys.exit(1 if different else 0)


if __name__ == "__main__":
    if os.environ.get("DATABASE_URL"):
        main()
    else:
        from binome.core import embedded_pg

        with embedded_pg.in_use():
            main()
