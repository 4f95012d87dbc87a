-- wrk script for the bench runner: cycles through a file of request paths (one per line),
-- each thread starting at its own offset, and prints one JSON summary line at the end.
-- Requests are formatted once at start-up so the generator spends no time building them; headers
-- given with wrk's -H (e.g. Accept-Encoding) are in wrk.headers, which wrk.format adds to each.
-- "bytes" is everything wrk read: response headers and bodies, as they were on the wire.
threads = {}
local counter = 0 -- setup() runs in the main Lua state; threads is read by done()

function setup(thread)
  counter = counter + 1
  thread:set("offset", counter * 7919)
  table.insert(threads, thread)
end

local requests = {}
local index = 0

function init(args)
  for line in io.lines(args[1]) do
    requests[#requests + 1] = wrk.format("GET", line)
  end
  index = (offset or 0) % #requests
end

function request()
  index = index + 1
  if index > #requests then index = 1 end
  return requests[index]
end

function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"bytes":%d,"durationUs":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
    '"p50":%d,"p95":%d,"p99":%d,"max":%d}\n',
    summary.requests, summary.bytes, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
