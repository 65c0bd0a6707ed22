-- wrk script: POST runs/log-metric with a growing step, as a training loop
-- logging loss would. RUN_ID comes from the environment.
local run_id = os.getenv("RUN_ID")
local n = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  local body = string.format('{"run_id":"%s","key":"loss","value":%f,"timestamp":%d,"step":%d}',
                             run_id, 1.0 / n, 1700000000000 + n, n)
  return wrk.format(nil, "/api/2.0/mlflow/runs/log-metric", nil, body)
end
