/*
 * store.h — what other store modules (tracking.c, the model registry) share
 * with store.c: the connection under a hamf_store, forward migrations per
 * component recorded in schema_version, audit rows, UTC timestamps and the
 * JSON row writer used for audit_log.old_data/new_data.
 *
 * A component ("registry", "tracking", ...) owns a list of migrations with
 * versions 1, 2, 3, ... in order; hamf__store_migrate applies the ones the
 * store lacks, each list in one transaction, and records the new version.
 * Migrations are forward only; a store newer than the code is
 * HAMF_ERR_UNSUPPORTED. A new component (e.g. tracking) adds its own list and
 * one hamf__store_migrate call in hamf_store_open_opts, after the
 * registry's, so every open brings every component up to date. Its tables
 * use the same conventions: ISO-8601 UTC text times (hamf__store_now),
 * DDL per backend, changes audited with hamf__store_audit in the same
 * transaction.
 */
#ifndef HAMF_STORE_STORE_H
#define HAMF_STORE_STORE_H

#include "store/db.h"

struct hamf_store {
    struct hamf__db *db;
    int schema_version; /* of the "registry" component */
};

struct hamf__migration {
    int version;
    const char *sqlite_sql; /* may hold several statements */
    const char *pg_sql;
};

hamf_status hamf__store_migrate(struct hamf__db *db, const char *component,
                                const struct hamf__migration *m, size_t n, int *version);

/* The connection under a store (borrowed; valid until hamf_store_close). */
struct hamf__db *hamf__store_db(hamf_store *s);


#endif
