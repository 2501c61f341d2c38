-- wrk script for bench/pages.py: GET one page with a signed-in browser's cookies.
--
-- Run as `wrk -t T -c C -s pages_wrk.lua URL -- COOKIE_HEADER`. Every request carries the
-- session and CSRF cookies and X-Forwarded-Proto: https (what nginx sends in production, so the
-- HTTPS settings - secure cookies, HSTS - apply without a redirect).
-- No response() function: wrk then does not hand every body to Lua, which would cost the load
-- generator CPU on this two-core machine. wrk counts statuses >= 400 itself; bench/pages.py
-- checks with a request of its own that the page still answers 200 after each run.
-- done() prints one line "BENCH_JSON {...}" with counts and wrk's latency percentiles (us).

function init(args)
   req = wrk.format("GET", nil, {
      ["Cookie"] = args[1],
      ["X-Forwarded-Proto"] = "https",
      ["Accept"] = "text/html",
   })
end

function request()
   return req
end

function done(summary, latency, requests)
   io.write(string.format(
      'BENCH_JSON {"duration_us":%d,"requests":%d,"bytes":%d,"connect_errors":%d,'
         .. '"read_errors":%d,"write_errors":%d,"timeouts":%d,"status_errors":%d,'
         .. '"p50_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d}\n',
      summary.duration, summary.requests, summary.bytes, summary.errors.connect,
      summary.errors.read, summary.errors.write, summary.errors.timeout, summary.errors.status,
      latency:percentile(50), latency:percentile(99), latency.mean, latency.max))
end
