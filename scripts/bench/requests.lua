-- wrk script: replays the requests listed in a file, one per line as
--   METHOD <TAB> PATH <TAB> BEARER TOKEN (or -) <TAB> JSON BODY (or -)
-- Each thread starts at its own offset and walks the list round-robin, so the load
-- spreads over many users and resources. At the end it prints one JSON line with the
-- figures the benchmark driver reads (wrk's own summary stays on stdout above it).
-- Usage: wrk -s requests.lua <url> -- <requests file>

local requests = {}
local threads = {}
local counter = 1

local function split(line)
  local fields = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do
    fields[#fields + 1] = field
  end
  return fields
end

local function load(path)
  local list = {}
  for line in io.lines(path) do
    if line ~= "" then
      local f = split(line)
      local headers = {}
      if f[3] ~= "-" then headers["Authorization"] = "Bearer " .. f[3] end
      local body = nil
      if f[4] ~= nil and f[4] ~= "-" then
        body = f[4]
        headers["Content-Type"] = "application/json"
      end
      list[#list + 1] = wrk.format(f[1], f[2], headers, body)
    end
  end
  assert(#list > 0, "no requests in " .. path)
  return list
end

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  requests = load(args[1])
  -- Threads start apart so they do not ask for the same rows in lockstep.
  index = ((id - 1) * math.floor(#requests / 8)) % #requests
  non_2xx = 0
end

function request()
  index = index % #requests + 1
  return requests[index]
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non_2xx = non_2xx + 1
  end
end

function done(summary, latency, _)
  local non = 0
  for _, thread in ipairs(threads) do
    non = non + thread:get("non_2xx")
  end
  local e = summary.errors
  io.write(string.format(
    '\nBENCH_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"non_2xx":%d,"socket_errors":%d,' ..
    '"socket_error_kinds":{"connect":%d,"read":%d,"write":%d,"timeout":%d}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, non, e.connect + e.read + e.write + e.timeout,
    e.connect, e.read, e.write, e.timeout))
end
