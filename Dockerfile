# The inbox on Debian 12: nginx with the inbox module, ws-server and the web
# app, as `make run` starts them.  The store lives in /srv/inbox/var; mount a
# volume there to keep it.
#
#   docker build -t inbox .
#   docker run --rm -p 8080:8080 -p 8090:8090 -e INBOX_BIND=0.0.0.0 \
#       -e INBOX_PUBLIC_URL=http://localhost:8080 inbox
#
# INBOX_PUBLIC_URL is the address browsers open and carriers call (Twilio
# signs it; ws-server takes live updates from pages there only): the
# published port as the host sees it, as above, or the https URL of a
# proxy in front (https://inbox.example.com).  Listening on 0.0.0.0, the
# run refuses to start without it.  Port 8090 is the demo's carrier
# simulator: its phone page (http://localhost:8090/ above) texts the inbox
# as a contact, anyone's who reaches it.  Through the published port it
# serves the page and one contact's thread only; its control API (the demo
# number's auth token, where webhooks go, every message) answers the
# container's own loopback only (docker exec).  Leave -p 8090:8090 out to
# keep the page inside too.  Not yet built in CI: the machines that test
# this project have no Docker engine.
FROM debian:12

WORKDIR /srv/inbox
COPY scripts/install-deps scripts/install-deps
RUN scripts/install-deps && rm -rf /var/lib/apt/lists/*

COPY . .
RUN make all

# the inbox, and the demo's phone page (the carrier simulator)
EXPOSE 8080 8090
STOPSIGNAL SIGINT
CMD ["scripts/run"]
