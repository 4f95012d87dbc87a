-- wrk script of the soak scenario: request paths read from a file, paced to a fixed rate,
-- response statuses counted per wall-clock second. Arguments after `--`: the paths file,
-- the rate of the whole run in requests/s, the number of wrk threads.
--
-- Paths are read one line per request instead of loaded at start (paths.lua formats the
-- whole list in init): a minute's file holds a minute of a never-repeating stream, and
-- loading it would leave a pause at the start of every minute. Thread k of T reads lines
-- k, k+T, k+2T, ...; at the end of the file it starts over.
--
-- Pacing: wrk calls delay() before each request a connection sends; each call takes the next
-- free send slot of this thread (slots T/rate apart) and waits until it, so the thread sends
-- its share of the rate whatever the latency, as long as some connection is free. Slots
-- missed because every connection was busy are dropped (no burst to catch up): the rate then
-- falls below the target and the per-minute figures show it. Latency is measured by wrk from
-- the send, not from the slot (no coordinated-omission correction).
--
-- Statuses per second: response() counts each status under the Unix second the response
-- arrived in (CLOCK_REALTIME, the same clock as Node's Date.now()), so the runner can tell
-- 503s inside the PostgreSQL restart window from those outside it; first_ms and last_ms, the
-- first and last response, show how long the pause between two minutes' runs was.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } soak_timespec;
int clock_gettime(int clock_id, soak_timespec *tp);
]]
local CLOCK_REALTIME = 0
local now_buffer = ffi.new("soak_timespec")

-- Wall-clock time in ms (fractional).
local function now_ms()
  ffi.C.clock_gettime(CLOCK_REALTIME, now_buffer)
  return tonumber(now_buffer.tv_sec) * 1000 + tonumber(now_buffer.tv_nsec) / 1e6
end

threads = {}
local counter = 0 -- setup() runs in the main Lua state; threads is read by done()

function setup(thread)
  counter = counter + 1
  thread:set("thread_index", counter)
  table.insert(threads, thread)
end

local file = nil
local stride = 1
local interval_ms = 0 -- between two sends of this thread
local next_slot_ms = nil
-- "second:status" -> responses; flat, so thread:get copies it as one table of numbers.
per_second = {}
first_ms = nil
last_ms = nil

local function next_line()
  local line = file:read("*l")
  if line == nil then
    file:seek("set")
    line = file:read("*l")
  end
  return line
end

function init(args)
  file = assert(io.open(args[1], "r"))
  stride = tonumber(args[3]) or 1
  interval_ms = 1000 * stride / tonumber(args[2])
  for _ = 2, (thread_index or 1) do next_line() end
end

function request()
  local path = next_line()
  for _ = 2, stride do next_line() end
  return wrk.format("GET", path)
end

function delay()
  local now = now_ms()
  if next_slot_ms == nil or next_slot_ms < now - interval_ms then next_slot_ms = now end
  next_slot_ms = next_slot_ms + interval_ms
  local wait = next_slot_ms - now
  if wait < 0 then return 0 end
  return wait
end

function response(status, _, _)
  local now = now_ms()
  if first_ms == nil then first_ms = now end
  last_ms = now
  local key = string.format("%d:%d", math.floor(now / 1000), status)
  per_second[key] = (per_second[key] or 0) + 1
end

-- Each thread counts in its own Lua state; done() runs in the main one and adds them up.
function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"bytes":%d,"durationUs":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
    '"p50":%d,"p95":%d,"p99":%d,"max":%d}\n',
    summary.requests, summary.bytes, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
  local totals = {}
  local first, last = nil, nil
  for _, thread in ipairs(threads) do
    for key, n in pairs(thread:get("per_second") or {}) do
      totals[key] = (totals[key] or 0) + n
    end
    local f, l = thread:get("first_ms"), thread:get("last_ms")
    if f ~= nil and (first == nil or f < first) then first = f end
    if l ~= nil and (last == nil or l > last) then last = l end
  end
  local parts = {}
  for key, n in pairs(totals) do parts[#parts + 1] = string.format('"%s":%d', key, n) end
  io.write("WRK_PER_SECOND {" .. table.concat(parts, ",") .. "}\n")
  io.write(string.format('WRK_SPAN {"first":%.0f,"last":%.0f}\n', first or 0, last or 0))
end
