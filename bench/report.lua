-- wrk's summary as one JSON line, for bench/run.py. Shared by get.lua and post.lua.
function report(summary, latency, extra)
  local errors = summary.errors
  local fields = {
    string.format('"requests": %d', summary.requests),
    string.format('"duration_us": %d', summary.duration),
    string.format('"bytes": %d', summary.bytes),
    string.format('"p50_us": %d', latency:percentile(50)),
    string.format('"p99_us": %d', latency:percentile(99)),
    string.format('"socket_errors": %d', errors.connect + errors.read + errors.write + errors.timeout),
    string.format('"status_errors": %d', errors.status),
  }
  for name, value in pairs(extra or {}) do
    table.insert(fields, string.format('"%s": %d', name, value))
  end
  io.write("BENCH-JSON {" .. table.concat(fields, ", ") .. "}\n")
end
