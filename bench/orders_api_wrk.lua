-- wrk script for bench/orders_api.py: market orders through POST /api/accounts/{id}/orders.
--
-- Run as `wrk -t C -c C -s orders_api_wrk.lua URL -- ACCOUNTS_FILE MODE SYMBOL`: one connection
-- per wrk thread, so each connection has its own Lua state, account and buy/sell alternation.
-- ACCOUNTS_FILE has one "account_id access_token" per line. MODE "distinct": thread n uses
-- line n; "hot": every thread uses line 1 (one account for all clients).
-- Each connection alternates buy / sell of 1 unit, so positions stay near where they started.
-- done() prints one line "BENCH_JSON {...}" with counts and wrk's latency percentiles (us).

local counter = 0
local threads = {}

function setup(thread)
   counter = counter + 1
   thread:set("idx", counter)
   table.insert(threads, thread)
end

function init(args)
   local file, mode, symbol = args[1], args[2], args[3]
   local lines = {}
   for line in io.lines(file) do
      table.insert(lines, line)
   end
   local n = idx
   if mode == "hot" then
      n = 1
   end
   local account, token = string.match(lines[n], "^(%d+) (%S+)$")
   path = "/api/accounts/" .. account .. "/orders"
   headers = {
      ["Content-Type"] = "application/json",
      ["Authorization"] = "Bearer " .. token,
   }
   bodies = {}
   for _, side in ipairs({ "buy", "sell" }) do
      bodies[side] = '{"symbol":"' .. symbol .. '","side":"' .. side
         .. '","type":"market","quantity":"1"}'
   end
   sent = 0
   ok = 0
   s4xx = 0
   s5xx = 0
   other = 0
   last_bad_status = 0
   last_bad_body = ""
end

function request()
   sent = sent + 1
   local side = "sell"
   if sent % 2 == 1 then
      side = "buy"
   end
   return wrk.format("POST", path, headers, bodies[side])
end

function response(status, headers, body)
   if status >= 200 and status < 300 then
      ok = ok + 1
   else
      if status >= 400 and status < 500 then
         s4xx = s4xx + 1
      elseif status >= 500 then
         s5xx = s5xx + 1
      else
         other = other + 1
      end
      last_bad_status = status
      last_bad_body = string.sub(body or "", 1, 200)
   end
end

function done(summary, latency, requests)
   local t = { ok = 0, s4xx = 0, s5xx = 0, other = 0, sent = 0 }
   local bad_status, bad_body = 0, ""
   for _, thread in ipairs(threads) do
      for key, _ in pairs(t) do
         t[key] = t[key] + (thread:get(key) or 0)
      end
      if (thread:get("last_bad_status") or 0) ~= 0 then
         bad_status = thread:get("last_bad_status")
         bad_body = thread:get("last_bad_body") or ""
      end
   end
   bad_body = string.gsub(bad_body, '[%c"\\]', " ")
   io.write(string.format(
      'BENCH_JSON {"duration_us":%d,"requests":%d,"ok":%d,"s4xx":%d,"s5xx":%d,"other":%d,'
         .. '"sent":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,'
         .. '"timeouts":%d,"status_errors":%d,"p50_us":%d,"p99_us":%d,"mean_us":%.1f,'
         .. '"max_us":%d,"bad_status":%d,"bad_body":"%s"}\n',
      summary.duration, summary.requests, t.ok, t.s4xx, t.s5xx, t.other, t.sent,
      summary.errors.connect, summary.errors.read, summary.errors.write,
      summary.errors.timeout, summary.errors.status,
      latency:percentile(50), latency:percentile(99), latency.mean, latency.max,
      bad_status, bad_body))
end
