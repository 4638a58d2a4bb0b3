// Builds the dApp image and, from it, the Cartesi Machine snapshot the Rollups node loads.
//
//   docker buildx bake           both targets (the default group)
//   docker buildx bake dapp      the riscv64 image only (ledger-dapp:devel)
//   docker buildx bake machine   the snapshot only, written to .cartesi/image
//
// The machine-emulator-tools .deb is checked against MACHINE_EMULATOR_TOOLS_SHA256 when it is set,
// and installed with a one-line warning when it is not (see README):
//   MACHINE_EMULATOR_TOOLS_SHA256=<sha256> docker buildx bake

variable "TAG" {
  default = "devel"
}

variable "MACHINE_EMULATOR_TOOLS_SHA256" {
  default = ""
}

group "default" {
  targets = ["dapp", "machine"]
}

target "common" {
  context    = "."
  dockerfile = "Dockerfile"
  args = {
    MACHINE_EMULATOR_TOOLS_SHA256 = "${MACHINE_EMULATOR_TOOLS_SHA256}"
  }
}

target "dapp" {
  inherits  = ["common"]
  target    = "dapp"
  platforms = ["linux/riscv64"]
  tags      = ["ledger-dapp:${TAG}"]
}

target "machine" {
  inherits = ["common"]
  target   = "machine"
  output   = ["type=local,dest=.cartesi/image"]
}
