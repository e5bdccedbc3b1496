-- wrk script for bench/search: GETs the paths given after `--` (the first
-- argument is the bearer token, "-" for none), one after the other on
-- each connection, so a run cycles through every query.
local paths = {}
local n = 0

function init(args)
    if args[1] ~= "-" then
        wrk.headers["Authorization"] = "Bearer " .. args[1]
    end
    for k = 2, #args do
        paths[#paths + 1] = args[k]
    end
end

function request()
    n = n % #paths + 1
    return wrk.format("GET", paths[n])
end
