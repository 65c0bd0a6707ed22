/*
 * test_store.c — the registry library against real stores: SQLite files in
 * the current directory, and, when $HAMF_TEST_PG_URL names a PostgreSQL
 * database (tests/store/test_pg_unit.sh starts one), the same generic tests
 * against it. Covers URL parsing, migrations, every write and read, the
 * audit rows, every bad input (status, message naming the field, store
 * unchanged), constraint backstops below the C validation, corrupt and
 * locked files, allocation failure at every step, two processes inserting
 * 1,000 results each at once, and a writer killed with SIGKILL mid-batch.
 */
#include "t.h"
#include "store/db.h"
#include "store/store.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *pg_url;  /* NULL: SQLite only */
static bool on_pg;          /* generic tests currently run against PostgreSQL */
static char url[512];       /* the store of the current test */
static int seq;

/* A fresh, empty store for one test. */
static void fresh(void)
{
    if (!on_pg) {
        snprintf(url, sizeof url, "t%d.db", ++seq);
        unlink(url);
        return;
    }
    snprintf(url, sizeof url, "%s", pg_url);
    struct hamf__db *db = NULL;
    if (hamf__db_open(url, &db) || hamf__db_exec(db, "DROP SCHEMA public CASCADE; CREATE SCHEMA public")) {
        fprintf(stderr, "cannot reset %s: %s\n", url, hamf_last_error());
        exit(1);
    }
    hamf__db_close(db);
}

static int64_t count(hamf_store *s, const char *table)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    struct hamf__stmt *st = NULL;
    bool row = false;
    int64_t n = -1;
    if (hamf__db_prepare(hamf__store_db(s), sql, &st) == HAMF_OK && hamf__db_step(st, &row) == HAMF_OK && row)
        n = hamf__db_col_i64(st, 0);
    hamf__db_finalize(st);
    return n;
}

/* Total rows of the five tables: "store unchanged" in tests. */
static int64_t total(hamf_store *s)
{
    return count(s, "features_master") + count(s, "models_master") + count(s, "features_models_map") +
           count(s, "training_results") + count(s, "audit_log");
}

static hamf_training_result result(int64_t model, double acc, double f1, double p, double r)
{
    hamf_training_result x = {0};
    x.model_id = model;
    x.accuracy = acc;
    x.f1_score = f1;
    x.precision = p;
    x.recall = r;
    return x;
}

/* ---- generic tests (both backends) ---- */

static void test_open_migrates_once(void)
{
    fresh();
    hamf_store *s = NULL;
    T_OK(hamf_store_open(url, &s));
    T_EQ_INT(hamf_store_schema_version(s), 1);
    T_EQ_STR(hamf_store_backend(s), on_pg ? "postgresql" : "sqlite");
    T_EQ_INT(count(s, "schema_version"), 1);
    hamf_store_close(s);
    T_OK(hamf_store_open(url, &s)); /* second open: nothing to do */
    T_EQ_INT(count(s, "schema_version"), 1);
    T_EQ_INT(total(s), 0);
    /* A store from a newer hamf is refused, not damaged. */
    T_OK(hamf__db_exec(hamf__store_db(s), "UPDATE schema_version SET version = 99 WHERE component = 'registry'"));
    hamf_store_close(s);
    s = NULL;
    T_STATUS(hamf_store_open(url, &s), HAMF_ERR_UNSUPPORTED);
    T_TRUE(s == NULL);
    T_TRUE(strstr(hamf_last_error(), "newer") != NULL);
}

/* The machinery other components (tracking) use: a list applied once, in
 * order, and later versions applied on a later open. */
static void test_migrations_forward(void)
{
    fresh();
    hamf_store *s = NULL;
    T_OK(hamf_store_open(url, &s));
    struct hamf__db *db = hamf__store_db(s);
    static const struct hamf__migration v1[] = {
        {1, "CREATE TABLE mig_a (x INTEGER)", "CREATE TABLE mig_a (x INTEGER)"},
    };
    static const struct hamf__migration v2[] = {
        {1, "CREATE TABLE mig_a (x INTEGER)", "CREATE TABLE mig_a (x INTEGER)"},
        {2, "INSERT INTO mig_a VALUES (7); CREATE TABLE mig_b (y TEXT)",
         "INSERT INTO mig_a VALUES (7); CREATE TABLE mig_b (y TEXT)"},
    };
    static const struct hamf__migration bad[] = {
        {1, "CREATE TABLE mig_a (x INTEGER)", "CREATE TABLE mig_a (x INTEGER)"},
        {2, "INSERT INTO mig_a VALUES (7); CREATE TABLE mig_b (y TEXT)",
         "INSERT INTO mig_a VALUES (7); CREATE TABLE mig_b (y TEXT)"},
        {3, "INSERT INTO mig_a VALUES (8); CREATE TABLE mig_b (y TEXT)",
         "INSERT INTO mig_a VALUES (8); CREATE TABLE mig_b (y TEXT)"},
    };
    int v = 0;
    T_OK(hamf__store_migrate(db, "test", v1, 1, &v));
    T_EQ_INT(v, 1);
    T_OK(hamf__store_migrate(db, "test", v1, 1, &v)); /* again: nothing */
    T_OK(hamf__store_migrate(db, "test", v2, 2, &v));
    T_EQ_INT(v, 2);
    T_OK(hamf__store_migrate(db, "test", v2, 2, &v));
    T_EQ_INT(count(s, "mig_a"), 1);
    T_EQ_INT(count(s, "mig_b"), 0);
    /* A failing step rolls the whole upgrade back (mig_b exists already). */
    T_TRUE(hamf__store_migrate(db, "test", bad, 3, &v) != HAMF_OK);
    T_TRUE(strstr(hamf_last_error(), "version 3") != NULL);
    T_EQ_INT(count(s, "mig_a"), 1);
    /* Older code on a newer store refuses. */
    T_STATUS(hamf__store_migrate(db, "test", v1, 1, &v), HAMF_ERR_UNSUPPORTED);
    T_EQ_INT(count(s, "schema_version"), 2); /* registry + test */
    hamf_store_close(s);
}

static void test_seed_step1(void)
{
    fresh();
    hamf_store *s = NULL;
    T_OK(hamf_store_open(url, &s));
    static const char *const names[] = {"urllength", "numberofdots", "hostage", "hassecureconnection",
                                        "has_equal", "alexa_rank", "has_digits", "hostlength", "pathlength",
                                        "registrarname", "hyperlinks", "foreignlinks", "brokenhyperlinks",
                                        "trickyforms", "phishing"};
    for (size_t i = 0; i < 15; i++) {
        const char *n = names[i];
        bool num = !strcmp(n, "urllength") || !strcmp(n, "numberofdots") || !strcmp(n, "alexa_rank") ||
                   !strcmp(n, "hostlength") || !strcmp(n, "pathlength");
        int64_t id = 0;
        T_OK(hamf_store_insert_feature(s, n, num ? "numerical" : "categorical", NULL, &id));
        T_EQ_INT(id, (int64_t)i + 1);
    }
    int64_t m1 = 0, m2 = 0;
    T_OK(hamf_store_insert_model(s, "PhishingDetectionModel", "v1.0", "RandomForest", NULL, &m1));
    T_OK(hamf_store_insert_model(s, "PhishingDetectionModel", "v1.1", "GradientBoosting", "seed GB", &m2));
    T_EQ_INT(m1, 1);
    T_EQ_INT(m2, 2);
    int64_t ids[14];
    for (int i = 0; i < 14; i++) ids[i] = i + 1;
    double acc = 99.83;
    T_OK(hamf_store_map_features(s, m1, ids, 14, &acc));
    hamf_training_result r = result(2, 99.83, 0.998, 0.999, 0.997);
    r.training_status = "completed";
    int64_t rid = 0;
    T_OK(hamf_store_insert_training_result(s, &r, &rid));
    T_EQ_INT(rid, 1);

    hamf_store_list *l = NULL;
    T_OK(hamf_store_list_features(s, &l));
    T_EQ_INT(l->count, 15);
    T_EQ_STR(l->u.features[0]->feature_name, "urllength");
    T_EQ_STR(l->u.features[0]->feature_type, "numerical");
    T_EQ_STR(l->u.features[2]->feature_type, "categorical");
    T_EQ_STR(l->u.features[14]->feature_status, "active");
    T_EQ_INT(strlen(l->u.features[14]->last_updated), 24);
    T_TRUE(l->u.features[14]->last_updated[23] == 'Z');
    hamf_store_list_free(l);

    T_OK(hamf_store_list_feature_maps(s, 1, &l));
    T_EQ_INT(l->count, 14);
    for (size_t i = 0; i < l->count; i++) {
        T_EQ_INT(l->u.maps[i]->feature_id, (int64_t)i + 1);
        T_TRUE(l->u.maps[i]->has_accuracy);
        T_EQ_DBL(l->u.maps[i]->accuracy, 99.83, 0);
    }
    hamf_store_list_free(l);
    T_OK(hamf_store_list_feature_maps(s, 2, &l));
    T_EQ_INT(l->count, 0);
    hamf_store_list_free(l);

    hamf_training_result *lr = NULL;
    T_OK(hamf_store_latest_result(s, 2, &lr));
    T_EQ_DBL(lr->accuracy, 99.83, 0); /* exact round trip on both backends */
    T_EQ_DBL(lr->f1_score, 0.998, 0);
    T_EQ_DBL(lr->precision, 0.999, 0);
    T_EQ_DBL(lr->recall, 0.997, 0);
    T_EQ_STR(lr->training_status, "completed");
    T_TRUE(lr->run_id == NULL);
    hamf_store_free(lr);
    lr = NULL;
    T_STATUS(hamf_store_latest_result(s, 1, &lr), HAMF_ERR_NOTFOUND);
    T_TRUE(lr == NULL);

    hamf_model *m = NULL;
    T_OK(hamf_store_get_model(s, 2, &m));
    T_EQ_STR(m->algorithm, "GradientBoosting");
    T_EQ_STR(m->description, "seed GB");
    hamf_store_free(m);
    T_OK(hamf_store_find_model(s, "PhishingDetectionModel", "v1.0", &m));
    T_EQ_INT(m->model_id, 1);
    T_TRUE(m->description == NULL);
    hamf_store_free(m);
    hamf_feature *f = NULL;
    T_OK(hamf_store_find_feature(s, "phishing", &f));
    T_EQ_INT(f->feature_id, 15);
    hamf_store_free(f);
    T_OK(hamf_store_get_feature(s, 6, &f));
    T_EQ_STR(f->feature_name, "alexa_rank");
    hamf_store_free(f);

    /* One audit row per change, carrying the row as JSON. */
    T_EQ_INT(count(s, "audit_log"), 15 + 2 + 14 + 1);
    T_OK(hamf_store_list_audit(s, "training_results", &l));
    T_EQ_INT(l->count, 1);
    T_EQ_STR(l->u.audit[0]->operation_type, "INSERT");
    T_TRUE(l->u.audit[0]->old_data == NULL);
    T_TRUE(strstr(l->u.audit[0]->new_data, "\"accuracy\":99.83,\"f1_score\":0.998") != NULL);
    hamf_store_list_free(l);
    hamf_store_close(s);
}

static void test_bad_input_leaves_store_unchanged(void)
{
    fresh();
    hamf_store *s = NULL;
    T_OK(hamf_store_open(url, &s));
    T_OK(hamf_store_insert_feature(s, "urllength", "numerical", NULL, NULL));
    T_OK(hamf_store_insert_feature(s, "hostage", "categorical", "deprecated", NULL));
    T_OK(hamf_store_insert_model(s, "M", "v1", "RandomForest", NULL, NULL));
    int64_t before = total(s);

    T_STATUS(hamf_store_insert_feature(s, "urllength", "numerical", NULL, NULL), HAMF_ERR_EXISTS);
    T_TRUE(strstr(hamf_last_error(), "urllength") && strstr(hamf_last_error(), "already exists"));
    T_STATUS(hamf_store_insert_feature(s, "x", "ordinal", NULL, NULL), HAMF_ERR_CONSTRAINT);
    T_TRUE(strstr(hamf_last_error(), "ordinal") != NULL);
    T_STATUS(hamf_store_insert_feature(s, "", "numerical", NULL, NULL), HAMF_ERR_CONSTRAINT);
    T_STATUS(hamf_store_insert_model(s, "M", "v1", "GB", NULL, NULL), HAMF_ERR_EXISTS);
    T_TRUE(strstr(hamf_last_error(), "'v1' already exists") != NULL);

    double bad[] = {-0.01, 100.5, NAN, INFINITY};
    for (size_t i = 0; i < 4; i++) {
        T_STATUS(hamf_store_map_feature(s, 1, 1, &bad[i]), HAMF_ERR_CONSTRAINT);
        T_TRUE(strstr(hamf_last_error(), "accuracy") != NULL);
    }
    double ok = 50;
    T_STATUS(hamf_store_map_feature(s, 9, 1, &ok), HAMF_ERR_NOTFOUND);
    T_TRUE(strstr(hamf_last_error(), "model_id 9") != NULL);
    int64_t ids[] = {1, 2, 77};
    T_STATUS(hamf_store_map_features(s, 1, ids, 3, &ok), HAMF_ERR_NOTFOUND); /* 1, 2 exist: nothing mapped */
    T_TRUE(strstr(hamf_last_error(), "feature_id 77") != NULL);
    int64_t dup[] = {1, 2, 1};
    T_STATUS(hamf_store_map_features(s, 1, dup, 3, NULL), HAMF_ERR_CONSTRAINT);
    const char *names[] = {"urllength", "nosuch"};
    T_STATUS(hamf_store_map_features_by_name(s, 1, names, 2, NULL), HAMF_ERR_NOTFOUND);
    T_TRUE(strstr(hamf_last_error(), "'nosuch'") != NULL);

    struct {
        hamf_training_result r;
        const char *field;
    } cases[] = {
        {result(1, 100.01, .5, .5, .5), "accuracy"}, {result(1, -1, .5, .5, .5), "accuracy"},
        {result(1, NAN, .5, .5, .5), "accuracy"},    {result(1, 99, 1.5, .5, .5), "f1_score"},
        {result(1, 99, NAN, .5, .5), "f1_score"},    {result(1, 99, .5, -0.1, .5), "precision"},
        {result(1, 99, .5, NAN, .5), "precision"},   {result(1, 99, .5, .5, 2), "recall"},
        {result(1, 99, .5, .5, NAN), "recall"},      {result(1, 99, .5, .5, -INFINITY), "recall"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        T_STATUS(hamf_store_insert_training_result(s, &cases[i].r, NULL), HAMF_ERR_CONSTRAINT);
        if (!strstr(hamf_last_error(), cases[i].field)) T_FAILF("case %zu: '%s' lacks %s", i, hamf_last_error(), cases[i].field);
    }
    hamf_training_result nomodel = result(42, 99, .5, .5, .5);
    T_STATUS(hamf_store_insert_training_result(s, &nomodel, NULL), HAMF_ERR_NOTFOUND);
    T_TRUE(strstr(hamf_last_error(), "model_id 42") != NULL);

    T_EQ_INT(total(s), before);
    /* ...and no id was consumed (PostgreSQL sequences are not rolled back). */
    int64_t id = 0;
    T_OK(hamf_store_insert_feature(s, "hostlength", "numerical", NULL, &id));
    T_EQ_INT(id, 3);
    hamf_training_result good = result(1, 100, 1, 0, 0.5);
    good.run_id = "0123456789abcdef0123456789abcdef";
    T_OK(hamf_store_insert_training_result(s, &good, &id));
    T_EQ_INT(id, 1);
    hamf_training_result *g = NULL;
    T_OK(hamf_store_get_training_result(s, 1, &g));
    T_EQ_STR(g->run_id, "0123456789abcdef0123456789abcdef");
    hamf_store_free(g);
    hamf_store_close(s);
}

/* Below the C checks, the tables themselves refuse bad rows. */
static void test_constraints_are_backstops(void)
{
    fresh();
    hamf_store *s = NULL;
    T_OK(hamf_store_open(url, &s));
    T_OK(hamf_store_insert_model(s, "M", "v1", "RF", NULL, NULL));
    struct hamf__db *db = hamf__store_db(s);
    static const struct {
        const char *sql;
        hamf_status want;
    } cases[] = {
        {"INSERT INTO features_master (feature_name, feature_type, last_updated) VALUES ('a', 'bogus', 'x')",
         HAMF_ERR_CONSTRAINT},
        {"INSERT INTO training_results (model_id, accuracy, f1_score, \"precision\", recall, \"timestamp\") "
         "VALUES (1, 100.5, 0.5, 0.5, 0.5, 'x')",
         HAMF_ERR_CONSTRAINT},
        {"INSERT INTO training_results (model_id, accuracy, f1_score, \"precision\", recall, \"timestamp\") "
         "VALUES (99, 50, 0.5, 0.5, 0.5, 'x')",
         HAMF_ERR_CONSTRAINT},
        {"INSERT INTO models_master (model_name, model_version, algorithm, creation_date) "
         "VALUES ('M', 'v1', 'GB', 'x')",
         HAMF_ERR_EXISTS},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        T_STATUS(hamf__db_exec(db, cases[i].sql), cases[i].want);
    }
    /* NaN through a bound parameter (SQLite stores NULL, PostgreSQL 'NaN'). */
    struct hamf__stmt *st = NULL;
    bool row;
    T_OK(hamf__db_prepare(db,
                          "INSERT INTO training_results (model_id, accuracy, f1_score, \"precision\", recall, "
                          "\"timestamp\") VALUES (1, ?, 0.5, 0.5, 0.5, 'x')",
                          &st));
    T_OK(hamf__db_bind_f64(st, 1, NAN));
    hamf_status rc = hamf__db_step(st, &row);
    hamf__db_finalize(st);
    T_STATUS(rc, HAMF_ERR_CONSTRAINT);
    T_EQ_INT(count(s, "training_results"), 0);
    hamf_store_close(s);
}

static void test_map_update_is_audited(void)
{
    fresh();
    hamf_store *s = NULL;
    T_OK(hamf_store_open(url, &s));
    T_OK(hamf_store_insert_feature(s, "a", "numerical", NULL, NULL));
    T_OK(hamf_store_insert_feature(s, "b", "categorical", NULL, NULL));
    T_OK(hamf_store_insert_model(s, "M", "v1", "RF", NULL, NULL));
    const char *names[] = {"b", "a"};
    T_OK(hamf_store_map_features_by_name(s, 1, names, 2, NULL));
    double acc = 97.5;
    T_OK(hamf_store_map_feature(s, 1, 1, &acc));
    hamf_store_list *l = NULL;
    T_OK(hamf_store_list_feature_maps(s, 0, &l));
    T_EQ_INT(l->count, 2);
    T_EQ_INT(l->u.maps[0]->feature_id, 2);
    T_TRUE(!l->u.maps[0]->has_accuracy);
    T_EQ_INT(l->u.maps[1]->feature_id, 1);
    T_TRUE(l->u.maps[1]->has_accuracy);
    T_EQ_DBL(l->u.maps[1]->accuracy, 97.5, 0);
    hamf_store_list_free(l);
    T_OK(hamf_store_list_audit(s, "features_models_map", &l));
    T_EQ_INT(l->count, 3);
    T_EQ_STR(l->u.audit[2]->operation_type, "UPDATE");
    T_TRUE(strstr(l->u.audit[2]->old_data, "\"accuracy\":null") != NULL);
    T_TRUE(strstr(l->u.audit[2]->new_data, "\"accuracy\":97.5") != NULL);
    hamf_store_list_free(l);
    T_OK(hamf_store_list_audit(s, "no_such_table", &l));
    T_EQ_INT(l->count, 0);
    hamf_store_list_free(l);
    hamf_store_close(s);
}

/* Every allocation in open, write and read fails in turn: clean NOMEM,
 * nothing half-written, no leak (ASan checks that). */
static void test_alloc_failures(void)
{
    int ok_runs = 0;
    int64_t n;
    fresh();
    for (n = 0; n < 1000 && ok_runs < 3; n++) {
        hamf_store *s = NULL;
        char fname[32], mname[32];
        snprintf(fname, sizeof fname, "f%lld", (long long)n);
        snprintf(mname, sizeof mname, "M%lld", (long long)n);
        int64_t mid = 0;
        double acc = 50;
        const char *names[] = {fname};
        hamf_store_list *l = NULL;
        hamf__alloc_fail_after(n);
        hamf_status rc = hamf_store_open(url, &s);
        if (!rc) rc = hamf_store_insert_feature(s, fname, "numerical", NULL, NULL);
        if (!rc) rc = hamf_store_insert_model(s, mname, "v", "RF", NULL, &mid);
        if (!rc) rc = hamf_store_map_features_by_name(s, mid, names, 1, &acc);
        hamf_training_result r = result(mid, 90, .9, .9, .9);
        if (!rc) rc = hamf_store_insert_training_result(s, &r, NULL);
        if (!rc) rc = hamf_store_list_feature_maps(s, mid, &l);
        hamf__alloc_fail_after(-1);
        if (rc != HAMF_OK && rc != HAMF_ERR_NOMEM) T_FAILF("fail at %lld: status %d: %s", (long long)n, rc, hamf_last_error());
        if (rc == HAMF_OK) ok_runs++;
        hamf_store_list_free(l);
        hamf_store_close(s);
    }
    hamf_store *s = NULL;
    T_OK(hamf_store_open(url, &s));
    /* Whatever was written is whole: each row has its audit row. */
    int64_t rows = count(s, "features_master") + count(s, "models_master") + count(s, "features_models_map") +
                   count(s, "training_results");
    T_EQ_INT(count(s, "audit_log"), rows);
    hamf_store_close(s);
    printf("  allocation failure injected at each of %lld steps\n", (long long)n - ok_runs);
    T_TRUE(ok_runs == 3);
}

/* ---- URL and file handling ---- */

static void test_malformed_urls(void)
{
    static const char *const bad[] = {"", "sqlite:", "sqlite://rel/path", "sqlite:////x", "sqlite:///a?mode=ro",
                                      "mysql://u@h/db", "http://x/y", "postgresql://[::1/x",
                                      "postgres://h:99999999/db", "postgresql://h:5x/db"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hamf_store *s = NULL;
        hamf_status rc = hamf_store_open(bad[i], &s);
        if (rc != HAMF_ERR_PARSE) T_FAILF("'%s': status %d (%s)", bad[i], rc, hamf_last_error());
        T_TRUE(s == NULL);
        char want[64];
        snprintf(want, sizeof want, "'%s'", bad[i]);
        if (!strstr(hamf_last_error(), want)) T_FAILF("message lacks the URL: %s", hamf_last_error());
    }
    /* sqlite:///abs/path opens that absolute path. */
    char cwd[400], u[512];
    T_TRUE(getcwd(cwd, sizeof cwd) != NULL);
    snprintf(u, sizeof u, "sqlite://%s/abs.db", cwd);
    hamf_store *s = NULL;
    T_OK(hamf_store_open(u, &s));
    hamf_store_close(s);
    T_TRUE(access("abs.db", F_OK) == 0);
}

static void test_corrupt_and_unopenable(void)
{
    FILE *f = fopen("corrupt.db", "wb");
    T_TRUE(f != NULL);
    for (int i = 0; i < 8192; i++) fputc((i * 7919) & 0xff, f);
    fclose(f);
    hamf_store *s = NULL;
    T_STATUS(hamf_store_open("corrupt.db", &s), HAMF_ERR_CORRUPT);
    T_TRUE(strstr(hamf_last_error(), "corrupt.db") != NULL);
    /* A real database whose page 1 was damaged after it was written. */
    T_OK(hamf_store_open("damaged.db", &s));
    T_OK(hamf_store_insert_feature(s, "a", "numerical", NULL, NULL));
    hamf_store_close(s);
    s = NULL;
    f = fopen("damaged.db", "r+b");
    T_TRUE(f != NULL);
    fseek(f, 0, SEEK_SET);
    fputs("this is not the SQLite header", f);
    fclose(f);
    T_STATUS(hamf_store_open("damaged.db", &s), HAMF_ERR_CORRUPT);
    T_TRUE(strstr(hamf_last_error(), "damaged.db") != NULL);
    /* A directory, and a file in a missing directory. */
    T_TRUE(mkdir("adir", 0755) == 0 || access("adir", F_OK) == 0);
    T_STATUS(hamf_store_open("adir", &s), HAMF_ERR_IO);
    T_TRUE(strstr(hamf_last_error(), "adir") != NULL);
    T_STATUS(hamf_store_open("no/such/dir/x.db", &s), HAMF_ERR_IO);
    T_TRUE(s == NULL);
}

static void test_locked_waits_then_busy(void)
{
    unlink("locked.db");
    hamf_store *a = NULL, *b = NULL;
    T_OK(hamf_store_open("locked.db", &a));
    hamf_store_options o = {300, 0};
    T_OK(hamf_store_open_opts("locked.db", &o, &b));
    T_OK(hamf__db_begin(hamf__store_db(a)));
    T_OK(hamf__db_exec(hamf__store_db(a), "INSERT INTO audit_log (table_name, operation_type, operation_timestamp) "
                                          "VALUES ('x', 'INSERT', 'now')"));
    double t0 = hamf__mono_seconds();
    T_STATUS(hamf_store_insert_feature(b, "f", "numerical", NULL, NULL), HAMF_ERR_BUSY);
    double waited = hamf__mono_seconds() - t0;
    T_TRUE(strstr(hamf_last_error(), "database is locked") != NULL);
    T_TRUE(strstr(hamf_last_error(), "locked.db") != NULL);
    T_TRUE(waited >= 0.25 && waited < 5);
    /* Readers are not blocked by the writer (WAL). */
    hamf_store_list *l = NULL;
    T_OK(hamf_store_list_audit(b, NULL, &l));
    T_EQ_INT(l->count, 0);
    hamf_store_list_free(l);
    hamf__db_rollback(hamf__store_db(a));
    T_OK(hamf_store_insert_feature(b, "f", "numerical", NULL, NULL));
    hamf_store_close(a);
    hamf_store_close(b);
}

/* ---- processes ---- */

static void child_insert(const char *path, int n, int wfd)
{
    hamf_store *s = NULL;
    hamf_store_options o = {30000, 0}; /* the other writer holds the lock only briefly */
    if (hamf_store_open_opts(path, &o, &s)) {
        fprintf(stderr, "child: %s\n", hamf_last_error());
        _exit(2);
    }
    for (int i = 0; i < n; i++) {
        hamf_training_result r = result(1, (double)(i % 101), 0.5, 0.5, 0.5);
        int64_t id;
        if (hamf_store_insert_training_result(s, &r, &id)) {
            fprintf(stderr, "child: %s\n", hamf_last_error());
            _exit(3);
        }
        if (wfd >= 0) {
            char line[32];
            int len = snprintf(line, sizeof line, "%lld\n", (long long)id);
            if (write(wfd, line, (size_t)len) != len) _exit(4);
        }
    }
    hamf_store_close(s);
    _exit(0);
}

static void test_two_processes_1000_each(void)
{
    unlink("conc.db");
    hamf_store *s = NULL;
    T_OK(hamf_store_open("conc.db", &s));
    T_OK(hamf_store_insert_model(s, "M", "v1", "RF", NULL, NULL));
    hamf_store_close(s);
    fflush(NULL);
    pid_t p[2];
    double t0 = hamf__mono_seconds();
    for (int k = 0; k < 2; k++) {
        p[k] = fork();
        T_TRUE(p[k] >= 0);
        if (p[k] == 0) child_insert("conc.db", 1000, -1);
    }
    for (int k = 0; k < 2; k++) {
        int st = 0;
        T_TRUE(waitpid(p[k], &st, 0) == p[k]);
        T_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    printf("  2 x 1000 concurrent inserts: %.2f s\n", hamf__mono_seconds() - t0);
    T_OK(hamf_store_open("conc.db", &s));
    T_EQ_INT(count(s, "training_results"), 2000);
    T_EQ_INT(count(s, "audit_log"), 2001);
    hamf_store_close(s);
}

/* Many processes opening the same brand-new file at once: each must wait
 * its turn (switch to WAL, create the schema), none may fail with BUSY. */
static void test_first_open_race(void)
{
    for (int round = 0; round < 40; round++) {
        unlink("race.db");
        unlink("race.db-wal");
        unlink("race.db-shm");
        fflush(NULL);
        pid_t p[8];
        for (int k = 0; k < 8; k++) {
            p[k] = fork();
            T_TRUE(p[k] >= 0);
            if (p[k] == 0) {
                hamf_store *s = NULL;
                if (hamf_store_open("race.db", &s)) {
                    fprintf(stderr, "round %d child %d: %s\n", round, k, hamf_last_error());
                    _exit(1);
                }
                hamf_store_close(s);
                _exit(0);
            }
        }
        int bad = 0;
        for (int k = 0; k < 8; k++) {
            int st = 0;
            waitpid(p[k], &st, 0);
            bad += !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        }
        T_EQ_INT(bad, 0);
        hamf_store *s = NULL;
        T_OK(hamf_store_open("race.db", &s));
        int64_t n = count(s, "schema_version");
        hamf_store_close(s);
        T_EQ_INT(n, 1);
    }
}

static void test_sigkill_mid_batch(void)
{
    unlink("kill.db");
    hamf_store *s = NULL;
    T_OK(hamf_store_open("kill.db", &s));
    T_OK(hamf_store_insert_model(s, "M", "v1", "RF", NULL, NULL));
    hamf_store_close(s);
    int fds[2];
    T_TRUE(pipe(fds) == 0);
    fflush(NULL);
    pid_t p = fork();
    T_TRUE(p >= 0);
    if (p == 0) {
        close(fds[0]);
        child_insert("kill.db", 1000000, fds[1]);
    }
    close(fds[1]);
    /* Read committed ids; kill once 200 are reported, then drain. */
    FILE *in = fdopen(fds[0], "r");
    T_TRUE(in != NULL);
    int64_t *ids = calloc(1000000, sizeof *ids);
    size_t n = 0;
    long long v;
    bool killed = false;
    while (fscanf(in, "%lld", &v) == 1) {
        ids[n++] = v;
        if (n == 200 && !killed) {
            kill(p, SIGKILL);
            killed = true;
        }
    }
    fclose(in);
    int st = 0;
    waitpid(p, &st, 0);
    T_TRUE(killed && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    T_TRUE(n >= 200);
    T_OK(hamf_store_open("kill.db", &s));
    struct hamf__stmt *q = NULL;
    bool row = false;
    T_OK(hamf__db_prepare(hamf__store_db(s), "PRAGMA integrity_check", &q));
    T_OK(hamf__db_step(q, &row));
    T_TRUE(row);
    T_EQ_STR(hamf__db_col_text(q, 0), "ok");
    hamf__db_finalize(q);
    for (size_t i = 0; i < n; i++) {
        hamf_training_result *r = NULL;
        if (hamf_store_get_training_result(s, ids[i], &r)) {
            long long lost = (long long)ids[i];
            free(ids);
            T_FAILF("committed result %lld lost: %s", lost, hamf_last_error());
        }
        hamf_store_free(r);
    }
    /* At most the one in flight commit went unreported; each row kept its audit row. */
    int64_t rows = count(s, "training_results");
    T_TRUE(rows == (int64_t)n || rows == (int64_t)n + 1);
    T_EQ_INT(count(s, "audit_log"), rows + 1);
    printf("  killed after %zu reported commits; %lld rows present\n", n, (long long)rows);
    free(ids);
    hamf_store_close(s);
}

static void run_generic(void)
{
    T_RUN(test_open_migrates_once);
    T_RUN(test_migrations_forward);
    T_RUN(test_seed_step1);
    T_RUN(test_bad_input_leaves_store_unchanged);
    T_RUN(test_constraints_are_backstops);
    T_RUN(test_map_update_is_audited);
    T_RUN(test_alloc_failures);
}

int main(void)
{
    setenv("HAMF_BUSY_TIMEOUT_MS", "2000", 0);
    pg_url = getenv("HAMF_TEST_PG_URL");
    if (pg_url && *pg_url) {
        /* PostgreSQL run: only the backend-independent tests. */
        on_pg = true;
        printf("backend: postgresql\n");
        run_generic();
        return T_DONE();
    }
    printf("backend: sqlite\n");
    run_generic();
    T_RUN(test_malformed_urls);
    T_RUN(test_corrupt_and_unopenable);
    T_RUN(test_locked_waits_then_busy);
    T_RUN(test_two_processes_1000_each);
    T_RUN(test_first_open_race);
    T_RUN(test_sigkill_mid_batch);
    return T_DONE();
}
