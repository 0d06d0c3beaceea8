-- wrk: each request to a page's address of its own (`?fresh=<thread>-<n>`, a parameter no page
-- reads), so no request is answered with a page kept from another (server/src/web/kept_pages.rs)
-- and every one is rendered. `.ci/bench` measures pages with and without it.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
function init(args)
  n = 0
  sep = string.find(wrk.path, "?", 1, true) and "&" or "?"
end
function request()
  n = n + 1
  return wrk.format(nil, wrk.path .. sep .. "fresh=" .. id .. "-" .. n)
end
