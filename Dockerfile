# syntax=docker/dockerfile:1
# Build: docker build -t freeslot .
# Run embedded: docker run -p 8080:8080 -v freeslot-data:/data freeslot

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin freeslot \
    && cp target/release/freeslot /usr/local/bin/freeslot

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data freeslot \
    && mkdir -p /data && chown freeslot /data
COPY --from=build /usr/local/bin/freeslot /usr/local/bin/freeslot
USER freeslot
WORKDIR /data
ENV BIND_ADDR=0.0.0.0:8080 \
    DATABASE_URL=sqlite:///data/freeslot.db?mode=rwc
EXPOSE 8080
VOLUME ["/data"]
ENTRYPOINT ["freeslot"]
CMD ["serve"]
