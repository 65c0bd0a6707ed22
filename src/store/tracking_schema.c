/*
 * tracking_schema.c — the tables of the tracking store (trk_*), as the
 * "tracking" component of the store's forward migrations, per backend.
 */
#include "store/tracking_impl.h"

#include "store/store.h"

/* ---- schema ---- */

/* SQLite: every table keyed by text is WITHOUT ROWID, so a lookup by key
 * is one B-tree search instead of an index search plus a table search. */
static const char schema_v1_sqlite[] =
    "CREATE TABLE trk_experiments ("
    " experiment_id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE,"
    " artifact_location TEXT NOT NULL,"
    " lifecycle_stage TEXT NOT NULL CHECK (lifecycle_stage IN ('active','deleted')),"
    " creation_time INTEGER NOT NULL,"
    " last_update_time INTEGER NOT NULL);"
    "CREATE TABLE trk_experiment_tags ("
    " experiment_id INTEGER NOT NULL REFERENCES trk_experiments(experiment_id),"
    " key TEXT NOT NULL, value TEXT NOT NULL,"
    " PRIMARY KEY (experiment_id, key)) WITHOUT ROWID;"
    "CREATE TABLE trk_runs ("
    " run_uuid TEXT PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " experiment_id INTEGER NOT NULL REFERENCES trk_experiments(experiment_id),"
    " user_id TEXT NOT NULL,"
    " status TEXT NOT NULL,"
    " start_time INTEGER NOT NULL,"
    " end_time INTEGER,"
    " artifact_uri TEXT NOT NULL,"
    " lifecycle_stage TEXT NOT NULL CHECK (lifecycle_stage IN ('active','deleted')),"
    " deleted_time INTEGER) WITHOUT ROWID;"
    "CREATE INDEX trk_runs_by_exp ON trk_runs (experiment_id, lifecycle_stage, start_time DESC, run_uuid);"
    "CREATE TABLE trk_params ("
    " run_uuid TEXT NOT NULL REFERENCES trk_runs(run_uuid),"
    " key TEXT NOT NULL, value TEXT NOT NULL,"
    " PRIMARY KEY (run_uuid, key)) WITHOUT ROWID;"
    "CREATE TABLE trk_tags ("
    " run_uuid TEXT NOT NULL REFERENCES trk_runs(run_uuid),"
    " key TEXT NOT NULL, value TEXT NOT NULL,"
    " PRIMARY KEY (run_uuid, key)) WITHOUT ROWID;"
    "CREATE TABLE trk_metrics ("
    " run_uuid TEXT NOT NULL REFERENCES trk_runs(run_uuid),"
    " key TEXT NOT NULL, step INTEGER NOT NULL, timestamp INTEGER NOT NULL,"
    " value REAL NOT NULL, is_nan INTEGER NOT NULL,"
    " PRIMARY KEY (run_uuid, key, step, timestamp, value, is_nan)) WITHOUT ROWID;"
    "CREATE TABLE trk_latest_metrics ("
    " run_uuid TEXT NOT NULL REFERENCES trk_runs(run_uuid),"
    " key TEXT NOT NULL, step INTEGER NOT NULL, timestamp INTEGER NOT NULL,"
    " value REAL NOT NULL, is_nan INTEGER NOT NULL,"
    " PRIMARY KEY (run_uuid, key)) WITHOUT ROWID;"
    "CREATE INDEX trk_latest_by_key ON trk_latest_metrics (key, value);"
    "CREATE TABLE trk_inputs ("
    " run_uuid TEXT NOT NULL REFERENCES trk_runs(run_uuid),"
    " name TEXT NOT NULL, digest TEXT NOT NULL,"
    " source_type TEXT, source TEXT, schema TEXT, profile TEXT,"
    " context TEXT, tags_json TEXT NOT NULL,"
    " PRIMARY KEY (run_uuid, name, digest)) WITHOUT ROWID;";

static const char schema_v1_pg[] =
    "CREATE TABLE trk_experiments ("
    " experiment_id BIGINT PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE,"
    " artifact_location TEXT NOT NULL,"
    " lifecycle_stage TEXT NOT NULL CHECK (lifecycle_stage IN ('active','deleted')),"
    " creation_time BIGINT NOT NULL,"
    " last_update_time BIGINT NOT NULL);"
    "CREATE TABLE trk_experiment_tags ("
    " experiment_id BIGINT NOT NULL REFERENCES trk_experiments(experiment_id),"
    " key TEXT NOT NULL, value TEXT NOT NULL,"
    " PRIMARY KEY (experiment_id, key));"
    "CREATE TABLE trk_runs ("
    " run_uuid TEXT PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " experiment_id BIGINT NOT NULL REFERENCES trk_experiments(experiment_id),"
    " user_id TEXT NOT NULL,"
    " status TEXT NOT NULL,"
    " start_time BIGINT NOT NULL,"
    " end_time BIGINT,"
    " artifact_uri TEXT NOT NULL,"
    " lifecycle_stage TEXT NOT NULL CHECK (lifecycle_stage IN ('active','deleted')),"
    " deleted_time BIGINT);"
    "CREATE INDEX trk_runs_by_exp ON trk_runs (experiment_id, lifecycle_stage, start_time DESC, run_uuid);"
    "CREATE TABLE trk_params ("
    " run_uuid TEXT NOT NULL REFERENCES trk_runs(run_uuid),"
    " key TEXT NOT NULL, value TEXT NOT NULL,"
    " PRIMARY KEY (run_uuid, key));"
    "CREATE TABLE trk_tags ("
    " run_uuid TEXT NOT NULL REFERENCES trk_runs(run_uuid),"
    " key TEXT NOT NULL, value TEXT NOT NULL,"
    " PRIMARY KEY (run_uuid, key));"
    "CREATE TABLE trk_metrics ("
    " run_uuid TEXT NOT NULL REFERENCES trk_runs(run_uuid),"
    " key TEXT NOT NULL, step BIGINT NOT NULL, timestamp BIGINT NOT NULL,"
    " value DOUBLE PRECISION NOT NULL, is_nan INTEGER NOT NULL,"
    " PRIMARY KEY (run_uuid, key, step, timestamp, value, is_nan));"
    "CREATE TABLE trk_latest_metrics ("
    " run_uuid TEXT NOT NULL REFERENCES trk_runs(run_uuid),"
    " key TEXT NOT NULL, step BIGINT NOT NULL, timestamp BIGINT NOT NULL,"
    " value DOUBLE PRECISION NOT NULL, is_nan INTEGER NOT NULL,"
    " PRIMARY KEY (run_uuid, key));"
    "CREATE INDEX trk_latest_by_key ON trk_latest_metrics (key, value);"
    "CREATE TABLE trk_inputs ("
    " run_uuid TEXT NOT NULL REFERENCES trk_runs(run_uuid),"
    " name TEXT NOT NULL, digest TEXT NOT NULL,"
    " source_type TEXT, source TEXT, schema TEXT, profile TEXT,"
    " context TEXT, tags_json TEXT NOT NULL,"
    " PRIMARY KEY (run_uuid, name, digest));";

static const struct hamf__migration tracking_migrations[] = {
    {1, schema_v1_sqlite, schema_v1_pg},
};


hamf_status hamf__trk_migrate(struct hamf__db *db)
{
    int version = 0;
    return hamf__store_migrate(db, "tracking", tracking_migrations, HAMF_ARRAY_LEN(tracking_migrations), &version);
}
