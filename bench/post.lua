-- Valid consultation requests, each from a different patient with a one-time form
-- token of its own (from the file BENCH_TOKENS, split between wrk's threads), the
-- CSRF cookie and field, and a check that each one ends on the thank-you page.
dofile(os.getenv("BENCH_DIR") .. "/report.lua")

local threads = {}

function setup(thread)
  thread:set("index", #threads)
  table.insert(threads, thread)
end

local tokens, first, last, sent = {}, 0, 0, 0
-- Globals, so that done() can read them from each thread.
thanked, other = 0, 0
local csrf = os.getenv("BENCH_CSRF")
local run = os.getenv("BENCH_RUN")
local treatment = os.getenv("BENCH_TREATMENT")

function init(args)
  for line in io.lines(os.getenv("BENCH_TOKENS")) do
    tokens[#tokens + 1] = line
  end
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
    error("bench/post.lua ran out of form tokens")
  end
  sent = sent + 1
  local patient = string.format("%s-%d", run, n)
  local body = table.concat({
    "csrfmiddlewaretoken=" .. csrf,
    "full_name=" .. encode("Test Patient " .. patient),
    "email=" .. encode("patient-" .. patient .. "@example.org"),
    "phone=" .. encode(string.format("(770) 555-01%02d", n % 100)),
    "preferred_contact=phone",
    "treatment=" .. treatment,
    "preferred_days=mon",
    "preferred_days=thu",
    "preferred_time=morning",
    "message=" .. encode("Benchmark request " .. patient),
    "heard_about=doctor",
    "consent=on",
    "website=",
    "form_token=" .. encode(tokens[n]),
  }, "&")
  return wrk.format("POST", "/consultation/", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "csrftoken=" .. csrf,
  }, body)
end

function response(status, headers, body)
  if status == 302 and headers["Location"] == "/consultation/thanks/" then
    thanked = thanked + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local total_thanked, total_other = 0, 0
  for _, thread in ipairs(threads) do
    total_thanked = total_thanked + thread:get("thanked")
    total_other = total_other + thread:get("other")
  end
  report(summary, latency, { thanked = total_thanked, unexpected = total_other })
end
