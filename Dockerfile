# The inbox on Debian 12: nginx with the inbox module, ws-server and the web
# app, as `make run` starts them.  The store lives in /srv/inbox/var; mount a
# volume there to keep it.
#
#   docker build -t inbox .
#   docker run --rm -p 8080:8080 -e INBOX_BIND=0.0.0.0 \
#       -e INBOX_PUBLIC_URL=https://inbox.example.com inbox
#
# INBOX_PUBLIC_URL is the address carriers call (Twilio signs it).  Not yet
# built in CI: the machines that test this project have no Docker engine.
FROM debian:12

WORKDIR /srv/inbox
COPY scripts/install-deps scripts/install-deps
RUN scripts/install-deps && rm -rf /var/lib/apt/lists/*

COPY . .
RUN make all

EXPOSE 8080
STOPSIGNAL SIGINT
CMD ["scripts/run"]
