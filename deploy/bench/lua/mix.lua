-- Scenario "mix": 90 % reads, 10 % writes, some reads pinned.
--   BENCH_POST_PCT   writes among all requests (default 10): POST /items with a small body
--   BENCH_PIN_PCT    reads that carry the pin cookie (default 20): GET /items/N with it
--   BENCH_PIN_COOKIE "switchyard_pin=VALUE", the cookie this proxy issued for a
--                    POST made with curl just before the run (Switchyard's is
--                    HMAC-signed, so each proxy's own is used)
-- Every connection cycles through the same precomputed, evenly spread
-- sequence of 100 requests, so each proxy gets exactly the same mix.
-- The pin cookie is refreshed from the Set-Cookie of write responses when
-- BENCH_REFRESH_PIN=1 (off by default: it makes wrk parse every response).

local post_pct = tonumber(os.getenv("BENCH_POST_PCT") or "10")
local pin_pct = tonumber(os.getenv("BENCH_PIN_PCT") or "20")
local cookie = os.getenv("BENCH_PIN_COOKIE") or ""
local body = "name=switchyard-bench&price=42"

local sequence = {}
local index = 0

local function build()
  sequence = {}
  local reads, pinned = 0, 0
  for i = 0, 99 do
    -- Bresenham-style spreading: a write whenever the running share falls behind.
    if math.floor((i + 1) * post_pct / 100) > math.floor(i * post_pct / 100) then
      sequence[#sequence + 1] = wrk.format("POST", "/items", { ["Content-Type"] = "application/x-www-form-urlencoded" }, body)
    else
      reads = reads + 1
      local want = math.floor(reads * pin_pct / 100)
      if want > pinned and cookie ~= "" then
        pinned = pinned + 1
        sequence[#sequence + 1] = wrk.format("GET", "/items/" .. i, { ["Cookie"] = "theme=dark; " .. cookie })
      else
        sequence[#sequence + 1] = wrk.format("GET", "/items/" .. i, nil)
      end
    end
  end
end

function init(args)
  build()
  index = math.random(0, 99)
end

function request()
  index = index % 100 + 1
  return sequence[index]
end

if os.getenv("BENCH_REFRESH_PIN") == "1" then
  function response(status, headers, body)
    -- wrk keeps header names as sent: nginx and HAProxy say Set-Cookie, Switchyard set-cookie.
    local set = headers["Set-Cookie"] or headers["set-cookie"]
    if set then
      local fresh = set:match("^(switchyard_pin=[^;]*)")
      if fresh and fresh ~= cookie then
        cookie = fresh
        build()
      end
    end
  end
end
