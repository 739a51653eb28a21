-- Bookings through the patient's details form: each POST from a different patient
-- with a one-time form token of its own (BENCH_TOKENS) and the CSRF cookie and
-- field. The times (BENCH_TIMES, as the booking URL writes them) are split between
-- wrk's threads so that each POST asks for a time of its own; with BENCH_STORM
-- set, every connection asks for the same few times in turn instead. Counts the
-- bookings made (redirected to the confirmation) and the times refused as just
-- taken (409); anything else is unexpected.
dofile(os.getenv("BENCH_DIR") .. "/report.lua")

local threads = {}

function setup(thread)
  thread:set("index", #threads)
  table.insert(threads, thread)
end

local tokens, times, first, last, sent = {}, {}, 0, 0, 0
-- Globals, so that done() can read them from each thread.
booked, taken, other = 0, 0, 0
local csrf = os.getenv("BENCH_CSRF")
local run = os.getenv("BENCH_RUN")
local treatment = os.getenv("BENCH_TREATMENT")
local slug = os.getenv("BENCH_SLUG")
local storm = os.getenv("BENCH_STORM") == "1"

local function read_lines(path, into)
  for line in io.lines(path) do
    into[#into + 1] = line
  end
end

function init(args)
  read_lines(os.getenv("BENCH_TOKENS"), tokens)
  read_lines(os.getenv("BENCH_TIMES"), times)
  local share = math.floor(#tokens / tonumber(os.getenv("BENCH_THREADS")))
  first = index * share + 1
  last = first + share - 1
end

local function encode(text)
  return (text:gsub("[^%w%-%.]", function(c)
    return string.format("%%%02X", string.byte(c))
  end))
end

function request()
  local n = first + sent
  if n > last then
    error("bench/book.lua ran out of form tokens")
  end
  sent = sent + 1
  local starts_at = storm and times[(n % #times) + 1] or times[n]
  if starts_at == nil then
    error("bench/book.lua ran out of free times")
  end
  local patient = string.format("%s-%d", run, n)
  local body = table.concat({
    "csrfmiddlewaretoken=" .. csrf,
    "full_name=" .. encode("Test Patient " .. patient),
    "email=" .. encode("patient-" .. patient .. "@example.org"),
    "phone=" .. encode(string.format("(770) 555-01%02d", n % 100)),
    "treatment=" .. treatment,
    "message=" .. encode("Benchmark booking " .. patient),
    "consent=on",
    "website=",
    "form_token=" .. encode(tokens[n]),
  }, "&")
  return wrk.format("POST", "/consultation/book/" .. slug .. "/" .. starts_at .. "/", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "csrftoken=" .. csrf,
  }, body)
end

function response(status, headers, body)
  if status == 302 and headers["Location"] == "/consultation/booked/" then
    booked = booked + 1
  elseif status == 409 then
    taken = taken + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local totals = { booked = 0, taken = 0, unexpected = 0 }
  for _, thread in ipairs(threads) do
    totals.booked = totals.booked + thread:get("booked")
    totals.taken = totals.taken + thread:get("taken")
    totals.unexpected = totals.unexpected + thread:get("other")
  end
  report(summary, latency, totals)
end
