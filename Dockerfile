# hubd: the InstaInstru hub server (serve, migrate, seed), as a static binary
# in a distroless image that runs as a non-root user and has no shell.
#
#   docker build -t instainstru-hub .
#   docker run --rm -e DATABASE_URL=... instainstru-hub serve

FROM golang:1.26 AS build
WORKDIR /src
# Dependencies first: this layer is rebuilt only when go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w" -o /out/hubd ./cmd/hubd

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/hubd /usr/local/bin/hubd
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/hubd"]
CMD ["serve"]
