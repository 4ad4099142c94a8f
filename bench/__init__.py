"""The SEND Portal benchmark: `python -m bench` (see README, "Benchmark").

build   -- a database of a given size, made with the app's own models and code
floor   -- the same queries and rows served by a bare WSGI function (driver only)
client  -- a small threaded HTTP load driver for 127.0.0.1
run     -- serving both under gunicorn, the scenarios, the table and the JSON
"""
