-- One benchmark scenario for wrk, configured through the environment by bench/run.py:
--   BENCH_PATHS   file with one request path per line, used in turn (each thread its own share)
--   BENCH_METHOD  GET or POST
--   BENCH_BODY    "" (none), "step" (answer the first step), "form" (one status report),
--                 or "batch" (50 reports as JSON); message ids are unique per request
--   BENCH_COOKIE, BENCH_CSRF, BENCH_HTMX  session cookie, CSRF token, and HX-Request header
--   BENCH_RUN     a run id that keeps message ids unique across runs
-- done() prints one line "BENCH_JSON {...}" with req/s, p50/p99 (ms), errors and queries.

local threads = {}
local counter = 1

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  paths = {}
  for line in io.lines(os.getenv("BENCH_PATHS")) do
    if #line > 0 then table.insert(paths, line) end
  end
  method = os.getenv("BENCH_METHOD") or "GET"
  mode = os.getenv("BENCH_BODY") or ""
  run = os.getenv("BENCH_RUN") or "run"
  nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
  n = 0
  errors = 0
  queries = 0
  responses = 0
  qmax = 0
  wrapped = 0
  wrk.headers["Host"] = "127.0.0.1"
  local cookie = os.getenv("BENCH_COOKIE") or ""
  if #cookie > 0 then wrk.headers["Cookie"] = cookie end
  local csrf = os.getenv("BENCH_CSRF") or ""
  if #csrf > 0 then wrk.headers["X-CSRFToken"] = csrf end
  if os.getenv("BENCH_HTMX") == "1" then wrk.headers["HX-Request"] = "true" end
  if mode == "form" or mode == "step" then
    wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  elseif mode == "batch" then
    wrk.headers["Content-Type"] = "application/json"
  end
end

local function report_json(mid)
  return string.format(
    '{"smsMsgId":"%s","status":"DELIVRD","total":"1","sequence":"1","source":"2",' ..
    '"updateTime":"2026-01-01T08:00:05Z","statusDesc":"delivered","to":"+8613800138000"}', mid)
end

function request()
  n = n + 1
  local index = (n - 1) * nthreads + (id - 1)
  if index >= #paths then wrapped = wrapped + 1 end
  local path = paths[(index % #paths) + 1]
  local mid = string.format("bench-%s-%d-%d", run, id, n)
  local body = nil
  if mode == "step" then
    body = "node=report_returned&value=no_report&notes="
  elseif mode == "form" then
    body = "smsMsgId=" .. mid .. "&status=DELIVRD&total=1&sequence=1&source=2" ..
      "&updateTime=2026-01-01T08%3A00%3A05Z&statusDesc=delivered&to=%2B8613800138000"
  elseif mode == "batch" then
    local items = {}
    for i = 1, 50 do items[i] = report_json(mid .. "-" .. i) end
    body = '{"statusReportList":[' .. table.concat(items, ",") .. ']}'
  end
  return wrk.format(method, path, nil, body)
end

function response(status, headers, body)
  responses = responses + 1
  if status < 200 or status > 299 then errors = errors + 1 end
  local q = tonumber(headers["X-Query-Count"] or headers["x-query-count"] or "0") or 0
  queries = queries + q
  if q > qmax then qmax = q end
end

function done(summary, latency, requests)
  local errs, qsum, resp, qm, wrap = 0, 0, 0, 0, 0
  for _, thread in ipairs(threads) do
    errs = errs + (thread:get("errors") or 0)
    qsum = qsum + (thread:get("queries") or 0)
    resp = resp + (thread:get("responses") or 0)
    wrap = wrap + (thread:get("wrapped") or 0)
    local m = thread:get("qmax") or 0
    if m > qm then qm = m end
  end
  local seconds = summary.duration / 1e6
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "rps": %.2f, "p50_ms": %.3f, "p99_ms": %.3f, "mean_ms": %.3f, ' ..
    '"errors": %d, "socket_errors": %d, "queries_mean": %.2f, "queries_max": %d, "wrapped": %d}\n',
    summary.requests, summary.requests / seconds, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency.mean / 1000, errs,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    resp > 0 and qsum / resp or 0, qm, wrap))
end
