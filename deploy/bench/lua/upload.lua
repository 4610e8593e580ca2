-- Scenario "upload": POST /upload with a 1 MiB body (BENCH_UPLOAD_BYTES to change it).
-- A write: every proxy sends it to the primary pool and sets its pin cookie.
local size = tonumber(os.getenv("BENCH_UPLOAD_BYTES") or "1048576")
wrk.method = "POST"
wrk.path = "/upload"
wrk.body = string.rep("x", size)
wrk.headers["Content-Type"] = "application/octet-stream"
