# syntax=docker/dockerfile:1
# cfissuer in a container: a static binary on distroless, as a non-root user, with nothing to write.
#
#   docker build --build-arg VERSION="$(git describe --tags --always --dirty)" -t cfissuer .
#   docker run --read-only -p 8080:8080 -v "$PWD/deploy/config:/etc/cfissuer:ro" cfissuer
#
# The builder runs `make static`, the target the tests in internal/deploytest build and run, so the
# binary in the image is the one that was tested (same flags; no container engine runs in CI, see
# docs/DEPLOY.md). Pin the base images by digest in your own registry mirror.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG TARGETARCH
RUN make static VERSION="${VERSION}" GOARCH="${TARGETARCH:-$(go env GOARCH)}" STATIC_OUT=/out/cfissuer

# distroless/static: CA certificates (for AWS), /etc/passwd with nonroot (65532), no shell.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/cfissuer /cfissuer
USER 65532:65532
ENV CFISSUER_LISTEN=0.0.0.0:8080 \
    CFISSUER_CONFIG=/etc/cfissuer/config.yaml
EXPOSE 8080
# The binary is its own probe: the image has no shell or curl.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 CMD ["/cfissuer", "health", "--url", "http://127.0.0.1:8080/readyz"]
ENTRYPOINT ["/cfissuer"]
CMD ["serve"]
