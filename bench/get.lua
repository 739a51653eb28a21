-- Plain GETs of the URL given to wrk, with the Accept-Encoding in
-- BENCH_ACCEPT_ENCODING (as browsers send it); reports with report.lua.
dofile(os.getenv("BENCH_DIR") .. "/report.lua")

local accept_encoding = os.getenv("BENCH_ACCEPT_ENCODING")
if accept_encoding and accept_encoding ~= "" then
  wrk.headers["Accept-Encoding"] = accept_encoding
end

function done(summary, latency, requests)
  report(summary, latency)
end
