# syntax=docker/dockerfile:1.7
#
# The ledger dApp for the real Cartesi stack (Rollups v1 line).
#
#   builder   cross-builds the static riscv64 backend with the same scripts CI uses
#   dapp      the riscv64 root filesystem the Cartesi Machine boots (rollup-init + dapp)
#   snapshot  turns that filesystem into a machine snapshot with Cartesi's SDK image
#   machine   the snapshot alone, exported by `docker buildx bake machine` to .cartesi/image
#
# Build with `docker buildx bake` (docker-bake.hcl); see README, "Run on the real Cartesi stack".

# Cartesi's machine-emulator-tools, Rollups v1 line. When MACHINE_EMULATOR_TOOLS_SHA256 is set (the
# sha256 of the release .deb you trust; docker-bake.hcl passes it through), the .deb is checked
# against it before installing; when it is empty, the build warns and installs it unchecked.
ARG MACHINE_EMULATOR_TOOLS_VERSION=0.14.1
ARG MACHINE_EMULATOR_TOOLS_SHA256=""
ARG CARTESI_SDK_VERSION=0.10.0
ARG RAM_SIZE=128Mi
# Extra free space in the root filesystem, in 4 KiB blocks (10 MiB).
ARG EXTRA_BLOCKS=2560

# The ledger's configuration, documented in the README. Every node replaying the chain must use
# the same values: they are hashed into genesis. Each ARG becomes an ENV of the image and an
# --env of the machine snapshot, so the two never disagree.
ARG LEDGER_ROLLUPS_VERSION=v1
ARG LEDGER_DIFFICULTY_BITS=8
ARG LEDGER_MIN_DIFFICULTY_BITS=4
ARG LEDGER_MAX_DIFFICULTY_BITS=16
ARG LEDGER_BLOCK_REWARD=50000000000000000000
ARG LEDGER_MAX_BLOCK_TXS=64
ARG LEDGER_BLOCK_INTERVAL=60
ARG LEDGER_MAX_NONCE_TRIES=4294967296
ARG LEDGER_GENESIS_TIMESTAMP=0
ARG LEDGER_MAX_PAYLOAD_BYTES=65536
ARG LEDGER_MAX_PAGE=50

FROM --platform=$BUILDPLATFORM debian:bookworm-20240211-slim AS builder
WORKDIR /src
COPY scripts/setup.sh scripts/setup.sh
RUN scripts/setup.sh --cross && rm -rf /var/lib/apt/lists/*
COPY . .
# One recipe: CI builds and tests the binary with this same script under qemu-user.
RUN cp "$(scripts/build-riscv64.sh)" /dapp

# The Cartesi Machine is riscv64 whatever the builder is: the platform is part of the design.
# hadolint ignore=DL3029
FROM --platform=linux/riscv64 ubuntu:22.04 AS dapp
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ARG MACHINE_EMULATOR_TOOLS_VERSION
ARG MACHINE_EMULATOR_TOOLS_SHA256
ADD https://github.com/cartesi/machine-emulator-tools/releases/download/v${MACHINE_EMULATOR_TOOLS_VERSION}/machine-emulator-tools-v${MACHINE_EMULATOR_TOOLS_VERSION}.deb /tmp/tools.deb
# With a digest, a .deb that does not match stops the build and the log says it was checked; without
# one, the build goes on with a one-line warning, as Cartesi's own templates install it.
RUN if [ -z "${MACHINE_EMULATOR_TOOLS_SHA256}" ]; then \
      echo "warning: machine-emulator-tools v${MACHINE_EMULATOR_TOOLS_VERSION} installed unchecked: set MACHINE_EMULATOR_TOOLS_SHA256 to check it (README, 'Run on the real Cartesi stack')" >&2; \
    else \
      echo "${MACHINE_EMULATOR_TOOLS_SHA256}  /tmp/tools.deb" | sha256sum --check - \
      && echo "machine-emulator-tools v${MACHINE_EMULATOR_TOOLS_VERSION}: sha256 checked against MACHINE_EMULATOR_TOOLS_SHA256"; \
    fi \
 && dpkg -i /tmp/tools.deb \
 && rm /tmp/tools.deb

ARG RAM_SIZE
LABEL io.cartesi.rollups.sdk_version=0.9.0
LABEL io.cartesi.rollups.ram_size=${RAM_SIZE}

ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends busybox-static=1:1.30.1-7ubuntu3 \
 && rm -rf /var/lib/apt/lists/* /var/log/* /var/cache/* \
 && useradd --create-home --user-group dapp

ENV PATH="/opt/cartesi/bin:/opt/cartesi/dapp:${PATH}"
WORKDIR /opt/cartesi/dapp
COPY --from=builder /dapp .

ARG LEDGER_ROLLUPS_VERSION LEDGER_DIFFICULTY_BITS LEDGER_MIN_DIFFICULTY_BITS LEDGER_MAX_DIFFICULTY_BITS \
    LEDGER_BLOCK_REWARD LEDGER_MAX_BLOCK_TXS LEDGER_BLOCK_INTERVAL LEDGER_MAX_NONCE_TRIES \
    LEDGER_GENESIS_TIMESTAMP LEDGER_MAX_PAYLOAD_BYTES LEDGER_MAX_PAGE
ENV ROLLUP_HTTP_SERVER_URL="http://127.0.0.1:5004" \
    LEDGER_ROLLUPS_VERSION=${LEDGER_ROLLUPS_VERSION} \
    LEDGER_DIFFICULTY_BITS=${LEDGER_DIFFICULTY_BITS} \
    LEDGER_MIN_DIFFICULTY_BITS=${LEDGER_MIN_DIFFICULTY_BITS} \
    LEDGER_MAX_DIFFICULTY_BITS=${LEDGER_MAX_DIFFICULTY_BITS} \
    LEDGER_BLOCK_REWARD=${LEDGER_BLOCK_REWARD} \
    LEDGER_MAX_BLOCK_TXS=${LEDGER_MAX_BLOCK_TXS} \
    LEDGER_BLOCK_INTERVAL=${LEDGER_BLOCK_INTERVAL} \
    LEDGER_MAX_NONCE_TRIES=${LEDGER_MAX_NONCE_TRIES} \
    LEDGER_GENESIS_TIMESTAMP=${LEDGER_GENESIS_TIMESTAMP} \
    LEDGER_MAX_PAYLOAD_BYTES=${LEDGER_MAX_PAYLOAD_BYTES} \
    LEDGER_MAX_PAGE=${LEDGER_MAX_PAGE}
ENTRYPOINT ["rollup-init"]
CMD ["dapp"]

# The steps of Cartesi CLI 1.x's `cartesi build`: the image's files as a tar, an ext2 root
# drive with xgenext2fs, and `create_machine_snapshot` with the image's ENV, WORKDIR and
# ENTRYPOINT + CMD.
FROM --platform=$BUILDPLATFORM cartesi/sdk:${CARTESI_SDK_VERSION} AS snapshot
ARG RAM_SIZE EXTRA_BLOCKS
ARG LEDGER_ROLLUPS_VERSION LEDGER_DIFFICULTY_BITS LEDGER_MIN_DIFFICULTY_BITS LEDGER_MAX_DIFFICULTY_BITS \
    LEDGER_BLOCK_REWARD LEDGER_MAX_BLOCK_TXS LEDGER_BLOCK_INTERVAL LEDGER_MAX_NONCE_TRIES \
    LEDGER_GENESIS_TIMESTAMP LEDGER_MAX_PAYLOAD_BYTES LEDGER_MAX_PAGE
COPY --from=dapp / /rootfs
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN tar --numeric-owner --sort=name --mtime=@0 -C /rootfs -cf /tmp/rootfs.tar . \
 && xgenext2fs --tarball /tmp/rootfs.tar --block-size 4096 --faketime -r "+${EXTRA_BLOCKS}" /tmp/rootfs.ext2 \
 && create_machine_snapshot \
      --ram-length="${RAM_SIZE}" \
      --drive-label=root --drive-filename=/tmp/rootfs.ext2 \
      --output=/snapshot \
      --workdir=/opt/cartesi/dapp \
      --env="PATH=/opt/cartesi/bin:/opt/cartesi/dapp:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
      --env="ROLLUP_HTTP_SERVER_URL=http://127.0.0.1:5004" \
      --env="LEDGER_ROLLUPS_VERSION=${LEDGER_ROLLUPS_VERSION}" \
      --env="LEDGER_DIFFICULTY_BITS=${LEDGER_DIFFICULTY_BITS}" \
      --env="LEDGER_MIN_DIFFICULTY_BITS=${LEDGER_MIN_DIFFICULTY_BITS}" \
      --env="LEDGER_MAX_DIFFICULTY_BITS=${LEDGER_MAX_DIFFICULTY_BITS}" \
      --env="LEDGER_BLOCK_REWARD=${LEDGER_BLOCK_REWARD}" \
      --env="LEDGER_MAX_BLOCK_TXS=${LEDGER_MAX_BLOCK_TXS}" \
      --env="LEDGER_BLOCK_INTERVAL=${LEDGER_BLOCK_INTERVAL}" \
      --env="LEDGER_MAX_NONCE_TRIES=${LEDGER_MAX_NONCE_TRIES}" \
      --env="LEDGER_GENESIS_TIMESTAMP=${LEDGER_GENESIS_TIMESTAMP}" \
      --env="LEDGER_MAX_PAYLOAD_BYTES=${LEDGER_MAX_PAYLOAD_BYTES}" \
      --env="LEDGER_MAX_PAGE=${LEDGER_MAX_PAGE}" \
      --entrypoint="rollup-init dapp" \
 && rm /tmp/rootfs.tar /tmp/rootfs.ext2

FROM scratch AS machine
COPY --from=snapshot /snapshot /
