/* test_search.c — MLflow search filter / order_by parsing and the SQL it
 * becomes (values bound, never in the SQL text). */
#include "t.h"
#include "store/search.h"

static void test_filter_clauses(void)
{
    struct hamf__search_filter *f = NULL;
    T_OK(hamf__search_parse_filter(
        "metrics.accuracy > 90 and params.max_depth = '6' AND tags.\"my key\" LIKE 'a%' "
        "AND attributes.run_id IN ('ab', 'c''d') AND `status` != \"FINISHED\" AND run.start_time >= -1.5e3 "
        "AND datasets.name ILIKE 'DS' AND metric.`a b` <= 1 AND attr.run_name NOT IN ('x')",
        HAMF__SEARCH_RUNS, &f));
    T_EQ_INT(f->n, 9);
    T_EQ_INT(f->c[0].entity, HAMF__SE_METRIC);
    T_EQ_STR(f->c[0].key, "accuracy");
    T_EQ_INT(f->c[0].op, HAMF__SO_GT);
    T_TRUE(f->c[0].is_num);
    T_EQ_DBL(f->c[0].num, 90, 0);
    T_EQ_INT(f->c[1].entity, HAMF__SE_PARAM);
    T_EQ_STR(f->c[1].strs[0], "6");
    T_EQ_STR(f->c[2].key, "my key");
    T_EQ_INT(f->c[2].op, HAMF__SO_LIKE);
    T_EQ_INT(f->c[3].op, HAMF__SO_IN);
    T_EQ_INT(f->c[3].nstrs, 2);
    T_EQ_STR(f->c[3].strs[1], "c'd");
    T_EQ_INT(f->c[4].entity, HAMF__SE_ATTR);
    T_EQ_STR(f->c[4].key, "status");
    T_EQ_INT(f->c[4].op, HAMF__SO_NE);
    T_EQ_STR(f->c[4].strs[0], "FINISHED");
    T_TRUE(f->c[5].is_num);
    T_EQ_DBL(f->c[5].num, -1500, 0);
    T_EQ_INT(f->c[6].entity, HAMF__SE_DATASET);
    T_EQ_INT(f->c[6].op, HAMF__SO_ILIKE);
    T_EQ_STR(f->c[7].key, "a b");
    T_EQ_INT(f->c[8].op, HAMF__SO_NOT_IN);
    hamf__search_filter_free(f);

    T_OK(hamf__search_parse_filter("  ", HAMF__SEARCH_RUNS, &f));
    T_EQ_INT(f->n, 0);
    hamf__search_filter_free(f);
    T_OK(hamf__search_parse_filter(NULL, HAMF__SEARCH_RUNS, &f));
    hamf__search_filter_free(f);
    T_OK(hamf__search_parse_filter("name LIKE 'Phish%' AND tags.team = 'x' AND creation_time > 5",
                                   HAMF__SEARCH_EXPERIMENTS, &f));
    T_EQ_INT(f->n, 3);
    T_EQ_INT(f->c[0].entity, HAMF__SE_ATTR);
    T_EQ_STR(f->c[0].key, "name");
    hamf__search_filter_free(f);
}

static void test_filter_errors(void)
{
    static const struct { const char *text, *msg; } cases[] = {
        {"metrics.a > 1 OR metrics.b > 2", "OR is not supported"},
        {"metrics.a > 'x'", "expected a number"},
        {"metrics.a LIKE '1'", "not valid for a numeric comparison"},
        {"params.a > '1'", "not valid for a string comparison"},
        {"params.a = 1", "expected a quoted string value"},
        {"params.a IN ('1')", "IN is only valid"},
        {"foo.a = '1'", "unknown entity type"},
        {"attributes.bogus = '1'", "invalid attribute key"},
        {"metrics.a > 1 metrics.b > 2", "expected AND"},
        {"params.a = 'x", "unterminated quoted string"},
        {"metrics.a", "expected a comparison operator"},
        {"attributes.run_id IN ('a' 'b')", "expected ',' or ')'"},
        {"datasets.foo = 'x'", "invalid dataset attribute"},
        {"metrics.a > 1 AND", "expected an identifier"},
        {"metrics.a > 1e999", "number out of range"},
    };
    for (size_t i = 0; i < HAMF_ARRAY_LEN(cases); i++) {
        struct hamf__search_filter *f = NULL;
        hamf_status st = hamf__search_parse_filter(cases[i].text, HAMF__SEARCH_RUNS, &f);
        if (st != HAMF_ERR_PARSE) T_FAILF("'%s': status %d", cases[i].text, st);
        if (!strstr(hamf_last_error(), cases[i].msg))
            T_FAILF("'%s': message '%s' lacks '%s'", cases[i].text, hamf_last_error(), cases[i].msg);
        T_TRUE(f == NULL);
    }
    struct hamf__search_filter *f = NULL;
    T_STATUS(hamf__search_parse_filter("metrics.a > 1", HAMF__SEARCH_EXPERIMENTS, &f), HAMF_ERR_PARSE);
    T_STATUS(hamf__search_parse_filter("run_name = 'x'", HAMF__SEARCH_EXPERIMENTS, &f), HAMF_ERR_PARSE);
}

static void test_order(void)
{
    struct hamf__search_order o;
    T_OK(hamf__search_parse_order("metrics.`val loss` DESC", HAMF__SEARCH_RUNS, &o));
    T_EQ_INT(o.entity, HAMF__SE_METRIC);
    T_EQ_STR(o.key, "val loss");
    T_TRUE(!o.asc);
    hamf__search_order_free(&o);
    T_OK(hamf__search_parse_order("start_time", HAMF__SEARCH_RUNS, &o));
    T_EQ_INT(o.entity, HAMF__SE_ATTR);
    T_TRUE(o.asc);
    hamf__search_order_free(&o);
    T_OK(hamf__search_parse_order("attributes.created asc", HAMF__SEARCH_RUNS, &o));
    T_EQ_STR(o.key, "start_time");
    hamf__search_order_free(&o);
    T_STATUS(hamf__search_parse_order("metrics.a UP", HAMF__SEARCH_RUNS, &o), HAMF_ERR_PARSE);
    T_STATUS(hamf__search_parse_order("attributes.nope", HAMF__SEARCH_RUNS, &o), HAMF_ERR_PARSE);
    T_STATUS(hamf__search_parse_order("", HAMF__SEARCH_RUNS, &o), HAMF_ERR_PARSE);
    T_OK(hamf__search_parse_order("name DESC", HAMF__SEARCH_EXPERIMENTS, &o));
    hamf__search_order_free(&o);
}

static void test_sql_binds_values(void)
{
    struct hamf__search_filter *f = NULL;
    const char *evil = "params.p = 'x'' OR 1=1; DROP TABLE trk_runs; --' AND metrics.m >= 0.25";
    T_OK(hamf__search_parse_filter(evil, HAMF__SEARCH_RUNS, &f));
    struct hamf__search_order o;
    T_OK(hamf__search_parse_order("metrics.m DESC", HAMF__SEARCH_RUNS, &o));
    struct hamf__sqlq q;
    hamf__sqlq_init(&q);
    const char *ids[] = {"1", "2"};
    T_OK(hamf__search_runs_sql(ids, 2, HAMF__VIEW_ACTIVE_ONLY, f, &o, 1, 10, 20, &q));
    T_TRUE(strstr(q.sql.data, "DROP") == NULL);
    T_TRUE(strstr(q.sql.data, "0.25") == NULL);
    T_TRUE(strstr(q.sql.data, "'") == NULL); /* no literal at all in the SQL */
    size_t marks = 0;
    for (const char *p = q.sql.data; *p; p++) marks += *p == '?';
    T_EQ_INT(marks, q.nbinds);
    /* filter and first order on the same metric: driven by the metric index.
     * binds: o0 key, 2 ids, stage, param key+value, o0 range value, limit, offset */
    T_EQ_INT(q.nbinds, 9);
    T_EQ_STR(q.binds[0].s, "m");
    T_EQ_INT(q.binds[1].i, 1);
    T_EQ_INT(q.binds[2].i, 2);
    T_EQ_STR(q.binds[3].s, "active");
    T_EQ_STR(q.binds[4].s, "p");
    T_EQ_STR(q.binds[5].s, "x' OR 1=1; DROP TABLE trk_runs; --");
    T_EQ_INT(q.binds[6].type, HAMF__DB_T_F64);
    T_EQ_DBL(q.binds[6].f, 0.25, 0);
    T_EQ_INT(q.binds[7].i, 10);
    T_EQ_INT(q.binds[8].i, 20);
    T_TRUE(strstr(q.sql.data, "FROM trk_latest_metrics o0 CROSS JOIN trk_runs r") != NULL);
    T_TRUE(strstr(q.sql.data, "AND o0.value >= ?") != NULL);
    T_TRUE(strstr(q.sql.data, "ORDER BY o0.value DESC, r.start_time DESC, r.run_uuid LIMIT ? OFFSET ?") != NULL);
    hamf__sqlq_free(&q);

    /* ordered by a metric the filter does not mention: every run is a
     * candidate and the ones without the metric sort last */
    struct hamf__search_order o2;
    T_OK(hamf__search_parse_order("metrics.other ASC", HAMF__SEARCH_RUNS, &o2));
    hamf__sqlq_init(&q);
    T_OK(hamf__search_runs_sql(ids, 2, HAMF__VIEW_ALL, f, &o2, 1, 5, 0, &q));
    marks = 0;
    for (const char *p = q.sql.data; *p; p++) marks += *p == '?';
    T_EQ_INT(marks, q.nbinds);
    /* join key, 2 ids, param key+value, metric key+value, limit, offset (no stage for ALL) */
    T_EQ_INT(q.nbinds, 9);
    T_EQ_STR(q.binds[0].s, "other");
    T_EQ_STR(q.binds[5].s, "m");
    T_TRUE(strstr(q.sql.data, "FROM trk_runs r LEFT JOIN trk_latest_metrics o0") != NULL);
    T_TRUE(strstr(q.sql.data, "ORDER BY CASE WHEN o0.run_uuid IS NULL THEN 2") != NULL);
    T_TRUE(strstr(q.sql.data, "lifecycle_stage") == NULL);
    hamf__search_order_free(&o2);
    hamf__sqlq_free(&q);
    hamf__search_order_free(&o);
    hamf__search_filter_free(f);
}

static void test_alloc_failure(void)
{
    const char *text = "metrics.a > 1 AND params.b = 'x' AND attributes.run_id IN ('a','b','c')";
    for (int64_t n = 0; n < 100; n++) {
        struct hamf__search_filter *f = NULL;
        hamf__alloc_fail_after(n);
        hamf_status st = hamf__search_parse_filter(text, HAMF__SEARCH_RUNS, &f);
        hamf__alloc_fail_after(-1);
        if (!st) {
            T_EQ_INT(f->n, 3);
            hamf__search_filter_free(f);
            return;
        }
        T_EQ_INT(st, HAMF_ERR_NOMEM);
    }
    T_FAILF("never succeeded");
}

int main(void)
{
    T_RUN(test_filter_clauses);
    T_RUN(test_filter_errors);
    T_RUN(test_order);
    T_RUN(test_sql_binds_values);
    T_RUN(test_alloc_failure);
    return T_DONE();
}
