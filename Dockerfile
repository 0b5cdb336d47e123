# imapfault's fake IMAP server and its control API in a container.
#
#   podman build -t imapfault .
#   docker run --rm -p 1143:1143 -p 8025:8025 imapfault --scenario login-rejected
#
# Inside a container loopback is reachable from that container only, so
# both listeners take every interface here; publish the ports to the host's
# loopback (-p 127.0.0.1:1143:1143) unless others must reach them, and give
# a token (--control-token-file) when they can. See docs/control.md.

FROM docker.io/library/golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# A static binary: the final image has no C library.
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/imapfault ./cmd/imapfault \
 && mkdir -p /out/tmp && chmod 1777 /out/tmp

FROM scratch
COPY --from=build /out/imapfault /imapfault
# serve writes its CA certificate to a temporary folder; scratch has none.
COPY --from=build /out/tmp /tmp
# Not root: the server needs no privilege (its ports are above 1024).
USER 65532:65532
EXPOSE 1143 8025
HEALTHCHECK --interval=5s --timeout=5s --start-period=2s --retries=3 CMD ["/imapfault", "healthcheck", "http://127.0.0.1:8025/readyz"]
ENTRYPOINT ["/imapfault", "serve", "--listen", "0.0.0.0:1143", "--control", "0.0.0.0:8025", "--json", "--ca-out", "/tmp/ca.pem"]
CMD ["--scenario", "healthy"]
