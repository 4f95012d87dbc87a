-- paths.lua plus a tally of response statuses, for scenarios whose point is which errors
-- occur (overload: only 503s). Its response() adds a table update per response to the
-- per-second counts paths.lua keeps.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "paths.lua")

local plain_done = done
local plain_response = response
tally = {}

function response(status, headers, body)
  plain_response(status, headers, body)
  tally[status] = (tally[status] or 0) + 1
end

-- Each thread counts in its own Lua state; done() runs in the main one and copies them.
function done(summary, latency, requests)
  plain_done(summary, latency, requests)
  local totals = {}
  for _, thread in ipairs(threads) do
    for code, n in pairs(thread:get("tally") or {}) do
      totals[code] = (totals[code] or 0) + n
    end
  end
  local parts = {}
  for code, n in pairs(totals) do parts[#parts + 1] = string.format('"%d":%d', code, n) end
  io.write("WRK_STATUSES {" .. table.concat(parts, ",") .. "}\n")
end
