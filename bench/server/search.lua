-- wrk script: POST runs/search with a metric filter and order over the
-- experiment EXP_ID (one page of MAX_RESULTS runs).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = string.format('{"experiment_ids":["%s"],"filter":"metrics.accuracy > 50","order_by":["metrics.accuracy DESC"],"max_results":%s}',
                         os.getenv("EXP_ID"), os.getenv("MAX_RESULTS") or "100")
