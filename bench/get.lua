-- Plain GETs of the URL given to wrk; reports with report.lua.
dofile(os.getenv("BENCH_DIR") .. "/report.lua")

function done(summary, latency, requests)
  report(summary, latency)
end
