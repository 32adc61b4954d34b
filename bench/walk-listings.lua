-- wrk script of bench/proxy-vs-forwarding.ts: each connection walks whole JSON listings as a reporting tool does.
-- The first request of a listing is wrk's URL; each page's @odata.nextLink (its path and query, sent to the host
-- under test, since bare forwarding passes the stand-in's links through unchanged) becomes a later request; a
-- listing's last page lets a new listing begin. With one wrk thread the queue holds one link per connection.
local threads = {}
setup = function(thread)
  table.insert(threads, thread)
end

local queue = {}
local first = wrk.path
listings = 0

request = function()
  local path = table.remove(queue, 1)
  if path == nil then
    path = first
    listings = listings + 1
  end
  return wrk.format("GET", path)
end

response = function(status, headers, body)
  local link = body:match('"@odata%.nextLink":"([^"]+)"')
  if link ~= nil then
    table.insert(queue, (link:match("^https?://[^/]+(/.*)$")))
  end
end

done = function(summary, latency, requests)
  local begun = 0
  for _, thread in ipairs(threads) do
    begun = begun + thread:get("listings")
  end
  io.write(string.format("listings begun: %d\n", begun))
end
