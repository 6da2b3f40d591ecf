# The one Tricolor image: every binary, as Calico ships calico/node,
# calico/cni and calico/kube-controllers, in one.
#   docker build -t tricolor:latest .
# Layout: /usr/bin/{calico-node,calico-kube-controllers,calicoctl},
# /opt/cni/bin/{calico,calico-ipam,portmap,bandwidth} (what
# `calico-node install-cni` copies to the host).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY api/ api/
COPY cmd/ cmd/
COPY internal/ internal/
ENV CGO_ENABLED=0
RUN go build -trimpath -ldflags='-s -w' -o /out/ ./cmd/calico-node ./cmd/calico-kube-controllers ./cmd/calicoctl ./cmd/calico

FROM debian:bookworm-slim
# nftables and iproute2: Felix's dataplane; containernetworking-plugins:
# portmap and bandwidth, chained after calico in the conflist.
RUN apt-get update \
 && apt-get install -y --no-install-recommends nftables iproute2 containernetworking-plugins ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/calico-node /out/calico-kube-controllers /out/calicoctl /usr/bin/
# calico-ipam is the calico binary under another name (it dispatches on argv[0]).
COPY --from=build /out/calico /opt/cni/bin/calico
COPY --from=build /out/calico /opt/cni/bin/calico-ipam
RUN cp /usr/lib/cni/portmap /usr/lib/cni/bandwidth /opt/cni/bin/
CMD ["calico-node"]
