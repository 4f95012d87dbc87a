-- wrk script for the bench runner: cycles through a file of request paths (one per line),
-- each thread starting at its own offset, and prints one JSON summary line at the end.
-- Requests are formatted once at start-up so the generator spends no time building them; headers
-- given with wrk's -H (e.g. Accept-Encoding) are in wrk.headers, which wrk.format adds to each.
-- "bytes" is everything wrk read: response headers and bodies, as they were on the wire.
-- Arguments after `--`: the paths file, and the run's start as Unix time in ms (optional).
--
-- For the HTML report (issue 19): responses and statuses above 399 per second of the run
-- (response() counts each under the second since the start it arrived in; the Lua call and
-- wrk's copy of each response into it cost the generator a few per cent of a core at 40k
-- req/s, measured), and the latency percentiles from p50 to p99.999 (HdrHistogram-style
-- points, from wrk's own histogram: closed model, measured from each request's send).
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]]
local CLOCK_REALTIME = 0
local now_buffer = ffi.new("bench_timespec")

threads = {}
local counter = 0 -- setup() runs in the main Lua state; threads is read by done()

function setup(thread)
  counter = counter + 1
  thread:set("offset", counter * 7919)
  table.insert(threads, thread)
end

local requests = {}
local index = 0
local start_s = nil
-- Per second since the start (1-based): flat tables of numbers, so thread:get copies them.
second_responses = {}
second_non2xx = {}

function init(args)
  for line in io.lines(args[1]) do
    requests[#requests + 1] = wrk.format("GET", line)
  end
  index = (offset or 0) % #requests
  if args[2] then start_s = tonumber(args[2]) / 1000 end
end

function request()
  index = index + 1
  if index > #requests then index = 1 end
  return requests[index]
end

function response(status, _, _)
  if start_s == nil then
    ffi.C.clock_gettime(CLOCK_REALTIME, now_buffer)
    start_s = tonumber(now_buffer.tv_sec) + tonumber(now_buffer.tv_nsec) / 1e9
  end
  ffi.C.clock_gettime(CLOCK_REALTIME, now_buffer)
  local s = math.floor(tonumber(now_buffer.tv_sec) + tonumber(now_buffer.tv_nsec) / 1e9 - start_s) + 1
  if s < 1 then s = 1 end
  second_responses[s] = (second_responses[s] or 0) + 1
  if status > 399 then second_non2xx[s] = (second_non2xx[s] or 0) + 1 end
end

-- "[n1,n2,...]" of the per-second counts of every thread added up, seconds 1..last.
local function merged(name)
  local totals = {}
  local last = 0
  for _, thread in ipairs(threads) do
    for s, n in pairs(thread:get(name) or {}) do
      totals[s] = (totals[s] or 0) + n
      if s > last then last = s end
    end
  end
  local parts = {}
  for s = 1, last do parts[s] = string.format("%d", totals[s] or 0) end
  return "[" .. table.concat(parts, ",") .. "]"
end

-- HdrHistogram's plot points: ticks halving the distance to 100 %, 2 per halving, to p99.999.
local function percentile_curve(latency)
  local parts = {}
  local k = 0
  while true do
    local p = 100 * (1 - 0.5 ^ (1 + k / 2))
    if p > 99.999 then break end
    parts[#parts + 1] = string.format("[%.6f,%d]", p, latency:percentile(p))
    k = k + 1
  end
  parts[#parts + 1] = string.format("[100,%d]", latency.max)
  return "[" .. table.concat(parts, ",") .. "]"
end

function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"bytes":%d,"durationUs":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
    '"p50":%d,"p95":%d,"p99":%d,"max":%d}\n',
    summary.requests, summary.bytes, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
  io.write('WRK_TIMELINE {"responses":' .. merged("second_responses") .. ',"non2xx":' .. merged("second_non2xx") ..
    ',"percentilesUs":' .. percentile_curve(latency) .. '}\n')
end
